"""The site's domain and its registration (shared/spec/checks.md, "Domain and register").

`domain.gov_nl` is informational: the cabinet chose .gov.nl as the recognisable government extension
(December 2023) but it is not an obligation yet, so the check reports where the site lives without a
verdict. The final host comes from the redirect chain each address's `http` probe followed.
`domain.rio` judges what the `rio` probe found in the configured RIO export (scanner/probes/register.py).
"""
from __future__ import annotations

from checks.registry import Facts, check
from govscan.model import Reason, Status, Text, Verdict

GOV_NL = "gov.nl"


def on_gov_nl(host: str) -> bool:
    host = host.lower().rstrip(".")
    return host == GOV_NL or host.endswith("." + GOV_NL)


def final_hosts(facts: Facts) -> dict[str, str]:
    """Per address that answered over HTTPS, the host its redirect chain ended on."""
    found = {}
    for address, artifacts in facts.by_address.items():
        http = artifacts.get("http")
        if http is not None and http.ok and http.data.get("redirects", {}).get("final_host"):
            found[address] = http.data["redirects"]["final_host"]
    return found


@check("domain.gov_nl", level="informational", family="domain", requires=("dns", "http"),
       norm="Principebesluit kabinet (december 2023): .gov.nl als herkenbare domeinextensie voor de Rijksoverheid",
       title=(".gov.nl", ".gov.nl"),
       advice=("Overweeg de website (ook) onder .gov.nl aan te bieden, of ernaar door te verwijzen.",
               "Consider offering the website under .gov.nl (as well), or redirecting to it."))
def gov_nl(facts: Facts) -> Verdict:
    """Informational: never passes or fails.
    Info: the site is on .gov.nl (the host is gov.nl or below it); it redirects there (the redirect chain from
    https://host/ of some address ends on such a host); or it is not on .gov.nl (naming the host the first
    address's chain ends on).
    Error: the host is not on .gov.nl and no address gave an HTTPS response whose redirects could be followed.
    """
    host = facts.site.host
    finals = final_hosts(facts)
    details = {"host": host, "final_hosts": finals}
    if on_gov_nl(host):
        details["gov_nl"] = True
        return Verdict(Status.INFO, Text(f"De website staat op een .gov.nl-domein ({host}).",
                                         f"The website is on a .gov.nl domain ({host})."), details)
    target = next((final for final in finals.values() if on_gov_nl(final)), None)
    if target:
        details.update(gov_nl=True, final_host=target)
        return Verdict(Status.INFO, Text(f"De website verwijst door naar .gov.nl ({target}).",
                                         f"The website redirects to .gov.nl ({target})."), details)
    if not finals:
        failed = [a["http"].error for a in facts.by_address.values() if "http" in a and not a["http"].ok]
        return Verdict(Status.ERROR, Text("Geen HTTPS-antwoord: de doorverwijzing is niet te volgen.",
                                          "No HTTPS response: the redirects cannot be followed."), details,
                       reason=failed[0] if failed else Reason.HTTP)
    final = next(iter(finals.values()))
    details.update(gov_nl=False, final_host=final)
    return Verdict(Status.INFO, Text(f"De website staat niet op .gov.nl (eindigt op {final}).",
                                     f"The website is not on .gov.nl (ends on {final})."), details)


@check("domain.rio", level="recommended", family="domain", requires=("rio",), version=2,
       norm="Register Internetdomeinen Overheid (RIO): het register van domeinnamen van de overheid",
       title=("Domein in het RIO", "Domain in the RIO"),
       advice=("Laat de domeinnaam van de website opnemen in het Register Internetdomeinen Overheid.",
               "Have the website's domain name entered in the Register Internetdomeinen Overheid."))
def rio(facts: Facts) -> Verdict:
    """The host and each of its parent domains up to its registrable domain by the public suffix list, private
    section included (www.noordstad.nl, noordstad.nl; www.x.gov.nl, x.gov.nl but not gov.nl), looked up in
    the configured export of the Register Internetdomeinen Overheid (`[register] rio_export`, else the copy
    `govscan import rio` keeps).
    Pass: one of them is in the export.
    Warn: none is.
    Not applicable: no export is configured.
    """
    data = facts["rio"]
    if data["export"] is None:
        return Verdict(Status.NOT_APPLICABLE, Text("Er is geen RIO-export ingesteld.",
                                                   "No RIO export is configured."), data)
    if data["listed"]:
        return Verdict(Status.PASS, Text(f"{data['listed']} staat in het RIO.",
                                         f"{data['listed']} is in the RIO."), data)
    searched = ", ".join(data["searched"])
    return Verdict(Status.WARN, Text(f"Geen van {searched} staat in het RIO.",
                                     f"None of {searched} is in the RIO."), data)
