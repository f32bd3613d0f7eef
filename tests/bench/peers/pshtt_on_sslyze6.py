"""Run pshtt's command line on sslyze 6 (inside .venv-peers: `python -m pshtt_on_sslyze6 ARGS`).

pshtt 0.7.6 imports sslyze 3/4's API, and sslyze 3/4 cannot be installed on Python 3.11 here (see
requirements.txt). This gives pshtt the names it imports, doing the same network work sslyze 4 did: one
connectivity test per HTTPS endpoint (`ServerConnectivityTester.perform`), then the certificate-info scan
on its result, run in the calling thread as sslyze 4's scanner would for one command.
"""
from __future__ import annotations

import sslyze
import sslyze.plugins.certificate_info.implementation as certificate_info
from sslyze.server_connectivity import ServerConnectivityInfo, check_connectivity_to_server


class ServerNetworkLocationViaDirectConnection:
    @staticmethod
    def with_ip_address_lookup(hostname: str, port: int) -> sslyze.ServerNetworkLocation:
        return sslyze.ServerNetworkLocation(hostname=hostname, port=port)  # looks the address up


class ServerConnectivityTester:
    def perform(self, location: sslyze.ServerNetworkLocation) -> ServerConnectivityInfo:
        configuration = sslyze.ServerNetworkConfiguration.default_for_server_location(location)
        return ServerConnectivityInfo(location, configuration, check_connectivity_to_server(location, configuration))


class ServerScanRequest:
    def __init__(self, server_info: ServerConnectivityInfo, scan_commands, scan_commands_extra_arguments=None):
        self.server_info = server_info
        self.scan_commands = scan_commands
        self.extra = scan_commands_extra_arguments or {}


class _Result:
    def __init__(self, results: dict):
        self.scan_commands_results = results


class Scanner:
    """Runs the certificate-info command (the only one pshtt asks for) on each queued request."""

    def __init__(self):
        self.queued: list[ServerScanRequest] = []

    def queue_scan(self, request: ServerScanRequest) -> None:
        self.queued.append(request)

    def get_results(self):
        while self.queued:
            request = self.queued.pop(0)
            results = {}
            for command in request.scan_commands:
                implementation = certificate_info.CertificateInfoImplementation
                results[command] = implementation.scan_server(request.server_info, request.extra.get(command))
            yield _Result(results)


def install() -> None:
    sslyze.ServerNetworkLocationViaDirectConnection = ServerNetworkLocationViaDirectConnection
    sslyze.ServerConnectivityTester = ServerConnectivityTester
    sslyze.ServerScanRequest = ServerScanRequest
    sslyze.Scanner = Scanner
    certificate_info.CertificateInfoExtraArguments = certificate_info.CertificateInfoExtraArgument


if __name__ == "__main__":
    install()
    from pshtt.cli import main

    main()
