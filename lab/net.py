"""The lab's network: namespace `gslab` for every server, a veth to the root namespace (where the scanner
runs) with routes for exactly the lab's ranges, and the client namespace `gslab-nov6`, linked to the lab
by IPv4 only, for "a scanner without IPv6".

Addresses are set with `ip -batch` (one process for thousands of addresses) and without IPv6 duplicate
address detection, so every address is usable at once. Addresses whose packets must be dropped (an
unresponsive name server, `ipv6_unreachable: dropped`) are not assigned but blackholed; forwarding is on in
the lab namespace so the kernel drops them silently instead of answering "unreachable".
"""
from __future__ import annotations

import subprocess

from lab.plan import LAB_RANGES, NOV6_LINK, machine_addresses, PLAIN_RESOLVER_IPV4, PLAIN_RESOLVER_IPV6, ROOT_LINK, LabPlan

ROOT_VETH = "gslab0"          # in the root namespace
LAB_VETH = "veth0"            # its peer in the lab namespace
NOV6_LAB_VETH = "nov6a"       # lab side of the link to the no-IPv6 client namespace
NOV6_CLIENT_VETH = "nov6b"
ADDRESS_DEV = "lo"                  # holds every server address in the lab namespace (no dummy module here)


class NetError(Exception):
    pass


def _run(argv: list[str], stdin: str | None = None) -> None:
    done = subprocess.run(argv, input=stdin, text=True, capture_output=True)
    if done.returncode != 0:
        raise NetError(f"{' '.join(argv)}: {done.stderr.strip() or done.stdout.strip()}")


def _batch(netns: str | None, commands: list[str]) -> None:
    argv = ["ip", "-batch", "-"] if netns is None else ["ip", "-n", netns, "-batch", "-"]
    _run(argv, "\n".join(commands) + "\n")


def _sysctl(netns: str, settings: dict[str, str]) -> None:
    _run(["ip", "netns", "exec", netns, "sysctl", "-q", "-w", *(f"{k}={v}" for k, v in settings.items())])


# Unreachable routes for the lab's ranges, behind the routes over the veth (IPv6 routes default to 1024).
GUARD_METRIC = 4242


def guard(on: bool) -> None:
    """While the lab exists, and while `up` rebuilds it, a packet for a lab address that has no route over
    the veth fails here instead of leaving the machine through the default route."""
    commands = "".join(f"route {'replace' if on else 'delete'} unreachable {r} metric {GUARD_METRIC}\n"
                       for r in LAB_RANGES)
    commands += "".join(_passthrough(on))
    done = subprocess.run(["ip", "-force", "-batch", "-"], input=commands, text=True, capture_output=True)
    if on and done.returncode != 0:
        raise NetError(f"guard routes: {done.stderr.strip()}")


def _passthrough(on: bool) -> list[str]:
    """Host routes that keep the machine's own addresses in the lab ranges (plan.machine_addresses) on the
    machine's default route, so the lab never captures them."""
    commands = []
    for address in sorted(machine_addresses()):
        prefix = 128 if ":" in address else 32
        if not on:
            commands.append(f"route delete {address}/{prefix}\n")
            continue
        family = "-6" if ":" in address else "-4"
        default = subprocess.run(["ip", family, "route", "show", "default"], capture_output=True, text=True)
        words = default.stdout.split()
        if "via" in words and "dev" in words:
            gateway, device = words[words.index("via") + 1], words[words.index("dev") + 1]
            commands.append(f"route replace {address}/{prefix} via {gateway} dev {device}\n")
    return commands


def namespaces() -> list[str]:
    done = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True)
    return [line.split()[0] for line in done.stdout.splitlines() if line.strip()]


def up(plan: LabPlan) -> None:
    """Create both namespaces, links, addresses and routes."""
    lab, client = plan.netns, plan.nov6_netns
    _run(["ip", "netns", "add", lab])
    _run(["ip", "netns", "add", client])
    _sysctl(lab, {"net.ipv6.conf.all.accept_dad": "0", "net.ipv6.conf.default.accept_dad": "0",
                  "net.ipv4.ip_forward": "1", "net.ipv6.conf.all.forwarding": "1"})
    _sysctl(client, {"net.ipv6.conf.all.disable_ipv6": "1", "net.ipv6.conf.default.disable_ipv6": "1"})

    _batch(None, [
        f"link add {ROOT_VETH} type veth peer name {LAB_VETH} netns {lab}",
        f"link add {NOV6_LAB_VETH} netns {lab} type veth peer name {NOV6_CLIENT_VETH} netns {client}",
    ])
    _sysctl_root_veth()
    _batch(None, [
        f"address add {ROOT_LINK['root']}/{ROOT_LINK['prefix']} dev {ROOT_VETH}",
        f"address add {ROOT_LINK['root6']}/{ROOT_LINK['prefix6']} dev {ROOT_VETH} nodad",
        f"link set {ROOT_VETH} up",
        *(f"route add {r} via {ROOT_LINK['lab6' if ':' in r else 'lab']} dev {ROOT_VETH}" for r in LAB_RANGES),
    ])

    commands = [
        "link set lo up",
        f"address add {ROOT_LINK['lab']}/{ROOT_LINK['prefix']} dev {LAB_VETH}",
        f"address add {ROOT_LINK['lab6']}/{ROOT_LINK['prefix6']} dev {LAB_VETH} nodad",
        f"address add {NOV6_LINK['lab']}/{NOV6_LINK['prefix']} dev {NOV6_LAB_VETH}",
        f"address add {plan.resolver_ipv4}/32 dev {ADDRESS_DEV}",
        f"address add {plan.resolver_ipv6}/128 dev {ADDRESS_DEV} nodad",
        f"address add {PLAIN_RESOLVER_IPV4}/32 dev {ADDRESS_DEV}",
        f"address add {PLAIN_RESOLVER_IPV6}/128 dev {ADDRESS_DEV} nodad",
    ]
    assigned, dropped = set(), set()
    for server in plan.nameservers.values():
        (assigned if server.responsive else dropped).update(server.ipv4 + server.ipv6)
    for host in plan.hosts.values():
        assigned.update(host.assigned)
        dropped.update(set(host.ipv4 + host.ipv6) - set(host.assigned))
    for address in sorted(assigned):
        commands.append(f"address add {address}/128 dev {ADDRESS_DEV} nodad" if ":" in address
                        else f"address add {address}/32 dev {ADDRESS_DEV}")
    for address in sorted(dropped - assigned):
        commands.append(f"route add blackhole {address}/{128 if ':' in address else 32}")
    commands += [f"link set {LAB_VETH} up", f"link set {NOV6_LAB_VETH} up"]
    _batch(lab, commands)

    _batch(client, [
        "link set lo up",
        f"address add {NOV6_LINK['client']}/{NOV6_LINK['prefix']} dev {NOV6_CLIENT_VETH}",
        f"link set {NOV6_CLIENT_VETH} up",
        *(f"route add {r} via {NOV6_LINK['lab']}" for r in LAB_RANGES if ":" not in r),
    ])


def _sysctl_root_veth() -> None:
    """No duplicate address detection on the root side of the link either (its address is used at once)."""
    with open(f"/proc/sys/net/ipv6/conf/{ROOT_VETH}/accept_dad", "w") as fh:
        fh.write("0")


def down(plan_netns: str, client_netns: str) -> None:
    """Remove both namespaces; the veths (and the root namespace's routes over them) go with them."""
    present = namespaces()
    for netns in (client_netns, plan_netns):
        if netns in present:
            _run(["ip", "netns", "delete", netns])
    if subprocess.run(["ip", "link", "show", ROOT_VETH], capture_output=True).returncode == 0:
        _run(["ip", "link", "delete", ROOT_VETH])


def pids_in(netns: str) -> list[int]:
    """Processes running in a namespace (all of them started by the lab)."""
    done = subprocess.run(["ip", "netns", "pids", netns], capture_output=True, text=True)
    return [int(p) for p in done.stdout.split()] if done.returncode == 0 else []
