"""`govscan lab generate N`: a scenario of N fictitious government sites with a realistic mix of profiles,
for benchmarks. Deterministic: the same N and seed give the same file.

The mix follows what scans of Dutch government sites typically find: most sites are signed, dual stack and
on HTTPS with a valid certificate, a sizeable minority lacks HSTS, IPv6 or security headers, and a few are
broken in rarer ways. Expectations are declared only where the profile alone decides the verdict.
"""
from __future__ import annotations

import random

import yaml

SYLLABLES = ("noord", "zuid", "oost", "west", "veld", "broek", "dijk", "meer", "hoven", "rade", "linde", "waard",
             "bos", "heuvel", "kanaal", "zijde", "stad", "dorp", "hem", "lo", "wijk", "dam", "sloot", "horst",
             "berg", "beek", "donk", "kerk", "haven", "polder", "mond", "burg", "gaarde", "rode", "vliet", "zand")

# (value, weight) per site key.
MIX = {
    "dnssec": [("secure", 62), ("insecure", 30), ("bogus_ds", 3), ("bogus_expired", 3), ("bogus_missing_rrsig", 2)],
    "stack": [("dual", 56), ("ipv4", 42), ("ipv6", 2)],
    "cert": [("valid", 90), ("expired", 3), ("wrong_host", 2), ("self_signed", 1), ("rsa2048", 3), ("sha1", 1)],
    "tls": [("modern", 60), ("tls13_only", 10), ("legacy", 10), ("rsa_kex", 5), ("dhe", 4), ("dhe2048", 1),
            ("cbc_sha256", 5), ("client_order", 5)],
    "ocsp_stapling": [("none", 75), ("good", 25)],
    "port80": [("redirect", 85), ("redirect_other_host", 5), ("content", 7), ("closed", 3)],
    "hsts": [("one_year", 65), ("short", 10), ("missing", 20), ("malformed", 5)],
    "headers": [("good", 40), ("none", 40), ("bad_csp", 20)],
    "security_txt": [("valid", 40), ("missing", 40), ("expired", 8), ("no_contact", 4), ("wrong_type", 4),
                     ("legacy_path", 4)],
    "banner": [("none", 55), ("first_layer", 20), ("second_layer", 10), ("honours_reject", 10),
               ("tracks_after_reject", 3), ("tracks_before_click", 2)],
    "statement": [("A", 25), ("B", 40), ("C", 15), ("D", 5), ("none", 15)],
    "wcag": [("clean", 30), ("violations", 65), ("iframe_violation", 5)],
    "hostile": [("none", 995), ("hang", 1), ("drip", 1), ("redirect_loop", 1), ("huge_body", 1), ("gzip_bomb", 1)],
}
NAMESERVERS = [(["ns1.dnsprovider.nl", "ns2.dnsprovider.nl"], 60), (["ns1.oudhosting.nl", "ns2.oudhosting.nl"], 25),
               (["ns1.dnsprovider.nl", "ns1.oudhosting.nl"], 15)]
TRACKERS = [([], 60), (["analytics"], 25), (["analytics", "pixel"], 8), (["video"], 5),
            (["analytics", "delayed_cookie"], 2)]


def _pick(rng: random.Random, options):
    values, weights = zip(*options)
    return rng.choices(values, weights=weights)[0]


def _names(rng: random.Random, count: int) -> list[str]:
    names: list[str] = []
    seen = set()
    while len(names) < count:
        parts = rng.randint(2, 3)
        name = "".join(rng.choice(SYLLABLES) for _ in range(parts))
        if name not in seen:
            seen.add(name)
            names.append(name)
    return names


MAX_SITES = 7999


def _organisation(index: int, name: str, count: int) -> dict:
    """Mostly municipalities; every 40th a province, water board, ministry or agency. Codes have the CBS
    form the site-list loader checks (GM + 4 digits, PV + 2, WS + 4), from numbers not in use."""
    title = name.capitalize()
    kind, group = index % 40, index // 40
    if kind == 10 and group < 50:  # PV50-PV99: there are only so many two-digit codes
        return {"code": f"PV{50 + group:02d}", "name": f"Provincie {title}", "type": "provincie"}
    if kind == 20:
        return {"code": f"WS9{group:03d}", "name": f"Waterschap {title}", "type": "waterschap"}
    if kind == 30:
        return {"code": f"MIN9{index:04d}", "name": f"Ministerie van {title}", "type": "ministerie"}
    if kind == 35:
        return {"code": f"ZBO9{index:04d}", "name": f"Dienst {title}", "type": "uitvoeringsorganisatie"}
    return {"code": f"GM9{index:03d}" if count <= 1000 else f"GM{2000 + index:04d}", "name": f"Gemeente {title}",
            "type": "gemeente"}


def _site(rng: random.Random, name: str, org: dict) -> dict:
    host = f"www.{name}.gov.nl" if org["type"] in ("ministerie", "uitvoeringsorganisatie") else f"www.{name}.nl"
    site = {"host": host, "organisation": org["code"]}
    for key in ("dnssec", "stack", "cert", "tls", "ocsp_stapling", "port80", "hsts", "headers", "security_txt",
                "hostile"):
        site[key] = _pick(rng, MIX[key])
    if site["stack"] == "dual" and rng.random() < 0.05:
        site["ipv6_unreachable"] = rng.choice(["no_listener", "dropped"])
    site["nameservers"] = _pick(rng, NAMESERVERS)
    site["caa"] = rng.random() < 0.4
    site["in_rio"] = rng.random() < 0.9
    if site["dnssec"] == "insecure" and site["nameservers"][0].endswith("oudhosting.nl"):
        site["nameservers"] = ["ns1.oudhosting.nl", "ns2.oudhosting.nl"]
    status = _pick(rng, MIX["statement"])
    statement = "none" if status == "none" else {
        "status": status, "date": f"-{rng.randint(10, 700)}d",
        "where": rng.choice(["page", "page", "register_link", "register_label"]),
        "register_id": rng.randint(1000, 999_999)}
    site["pages"] = {"template": "municipality", "params": {
        "name": org["name"], "trackers": _pick(rng, TRACKERS), "banner": _pick(rng, MIX["banner"]),
        "statement": statement, "wcag": _pick(rng, MIX["wcag"])}}
    expect = {"dns.dnssec": "pass" if site["dnssec"] == "secure" else "fail",
              "domain.rio": "pass" if site["in_rio"] else "warn"}
    resolvable = site["dnssec"] in ("secure", "insecure")  # a bogus zone's addresses do not resolve
    if resolvable:
        expect["web.ipv6.address"] = "fail" if site["stack"] == "ipv4" else "pass"
    if resolvable and site["hostile"] == "none" and site["cert"] == "valid" and site["stack"] != "ipv6" \
            and "ipv6_unreachable" not in site:
        expect["web.https.hsts"] = "pass" if site["hsts"] == "one_year" else "fail"
    site["expect"] = expect
    return site


def generate(count: int, seed: int = 1) -> str:
    """The YAML text of a scenario with `count` sites."""
    if not 1 <= count <= MAX_SITES:
        raise ValueError(f"the generator writes 1 to {MAX_SITES} sites (four-digit municipality codes), not {count}")
    rng = random.Random(seed)
    names = _names(rng, count)
    organisations = [_organisation(i, name, count) for i, name in enumerate(names)]
    sites = [_site(rng, name, org) for name, org in zip(names, organisations)]
    scenario = {
        "name": f"generated-{count}",
        "description": f"{count} generated sites (seed {seed}) for benchmarks; written by 'govscan lab generate'.",
        "organisations": organisations,
        "nameserver_sets": {"ns1.dnsprovider.nl": {"stack": "dual"}, "ns2.dnsprovider.nl": {"stack": "dual"},
                            "ns1.oudhosting.nl": {"stack": "ipv4"}, "ns2.oudhosting.nl": {"stack": "ipv4"}},
        "sites": sites,
    }
    header = "# Generated by 'govscan lab generate'; schema: docs/scenario.md\n"
    return header + yaml.safe_dump(scenario, sort_keys=False, allow_unicode=True, width=120)
