"""The site's domain (shared/spec/checks.md, "Domain and register").

`domain.gov_nl` is informational: the cabinet chose .gov.nl as the recognisable government extension
(December 2023) but it is not an obligation yet, so the check reports where the site lives without a
verdict. The final host comes from the redirect chain each address's `http` probe followed.
"""
from __future__ import annotations

from checks.registry import Facts, check
from scanner.model import Reason, Status, Text, Verdict

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
