"""The NCSC TLS classification tables (config/policy/tls-ncsc-2.1.toml), read once.

Each lookup answers with a class: good, sufficient, phase_out or insufficient. Anything the tables do not
list is insufficient, as the catalogue says ("everything else"). The checks in checks/tls.py map classes to
statuses; this module only knows the tables.
"""
from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from govscan.paths import package_data

DEFAULT_POLICY = package_data("policy", "tls-ncsc-2.1.toml")

GOOD, SUFFICIENT, PHASE_OUT, INSUFFICIENT = "good", "sufficient", "phase_out", "insufficient"
CLASSES = (GOOD, SUFFICIENT, PHASE_OUT, INSUFFICIENT)
ACCEPTABLE = (GOOD, SUFFICIENT)


def worst_class(classes) -> str | None:
    """The worst of some classes (None when there are none)."""
    present = list(classes)
    return max(present, key=CLASSES.index) if present else None


@dataclass(frozen=True)
class TlsPolicy:
    name: str
    version: str
    protocols: dict[str, str]
    cipher_suites: dict[str, str]
    suite_openssl_names: dict[str, str]
    groups: dict[str, str]
    rsa_key_sizes: tuple[tuple[int, str], ...]
    ec_curves: dict[str, str]
    other_keys: dict[str, str]
    signature_schemes: dict[str, str]
    signature_algorithms: dict[str, str]
    signature_hashes: dict[str, str]
    key_exchange_hashes: dict[str, str]

    def protocol(self, name: str) -> str:
        return self.protocols.get(name, INSUFFICIENT)

    def suite(self, iana_name: str) -> str:
        return self.cipher_suites.get(iana_name, INSUFFICIENT)

    def group(self, name: str) -> str:
        """An elliptic curve or RFC 7919 group by name; custom finite-field groups are insufficient."""
        return self.groups.get(name, INSUFFICIENT)

    def certificate_key(self, key_type: str, bits: int = 0, curve: str | None = None) -> str:
        """`key_type` is rsa, ec, ed25519, ed448, dsa ...; `curve` names the EC curve."""
        if key_type == "rsa":
            return next((cls for min_bits, cls in self.rsa_key_sizes if bits >= min_bits), INSUFFICIENT)
        if key_type == "ec":
            return self.ec_curves.get(curve or "", INSUFFICIENT)
        return self.other_keys.get(key_type, INSUFFICIENT)

    def signature_hash(self, name: str | None) -> str:
        return self.signature_hashes.get(name or "", INSUFFICIENT)

    def signature_scheme(self, oid: str) -> tuple[str, str]:
        """(scheme, class) of a certificate signature algorithm by its dotted OID; an OID the tables do not
        name is its own scheme, insufficient."""
        scheme = self.signature_algorithms.get(oid, oid)
        return scheme, self.signature_schemes.get(scheme, INSUFFICIENT)

    def key_exchange_hash(self, name: str) -> str:
        return self.key_exchange_hashes.get(name, INSUFFICIENT)


def _checked(table: dict[str, str], where: str) -> dict[str, str]:
    for key, cls in table.items():
        if cls not in CLASSES:
            raise ValueError(f"{where}.{key}: unknown class {cls!r}")
    return dict(table)


def _schemes(algorithms: dict[str, str], schemes: dict[str, str]) -> dict[str, str]:
    for oid, scheme in algorithms.items():
        if scheme not in schemes:
            raise ValueError(f"signature_algorithms.{oid}: scheme {scheme!r} is not in signature_schemes")
    return dict(algorithms)


def read(path: Path) -> TlsPolicy:
    with open(path, "rb") as fh:
        raw = tomllib.load(fh)
    suites = raw["cipher_suites"]
    rsa = tuple((row["min_bits"], row["class"]) for row in raw["certificate_keys"]["rsa"])
    _checked(dict((str(bits), cls) for bits, cls in rsa), "certificate_keys.rsa")
    return TlsPolicy(
        name=raw["policy"]["name"],
        version=raw["policy"]["version"],
        protocols=_checked(raw["protocols"], "protocols"),
        cipher_suites=_checked({name: entry["class"] for name, entry in suites.items()}, "cipher_suites"),
        suite_openssl_names={name: entry["openssl"] for name, entry in suites.items()},
        groups=_checked(raw["groups"], "groups"),
        rsa_key_sizes=tuple(sorted(rsa, reverse=True)),
        ec_curves=_checked(raw["certificate_keys"]["ec"], "certificate_keys.ec"),
        other_keys=_checked(raw["certificate_keys"]["other"], "certificate_keys.other"),
        signature_schemes=_checked(raw["signature_schemes"], "signature_schemes"),
        signature_algorithms=_schemes(raw["signature_algorithms"], raw["signature_schemes"]),
        signature_hashes=_checked(raw["signature_hashes"], "signature_hashes"),
        key_exchange_hashes=_checked(raw["key_exchange_hashes"], "key_exchange_hashes"),
    )


@lru_cache(maxsize=None)
def load(path: str | Path = DEFAULT_POLICY) -> TlsPolicy:
    """The policy at `path` (the default NCSC 2.1 tables), read from disk once per process."""
    return read(Path(path))
