"""The lab's DNS: zones with real delegations, glue and DNSSEC (signed with dnspython), NSD configurations
(one NSD per name server, so each answers only for its own zones) and a validating unbound that trusts
only the lab root key.

Zones are built from the leaves up, so each parent gets its children's DS records: the right one for a
secure zone, none for an insecure one, one of a key the child does not have for `bogus_ds`. A
`bogus_keytrap` zone is signed normally and then given what KeyTrap (CVE-2023-50387) publishes
(`keytrap`): dozens of RSA DNSKEYs that share one key tag, with exponents as long as their moduli, and on
its hosts' address records only RRSIGs with that tag, which verify with none of them. An `rsasha1` zone is
signed with RSASHA1 and a `sha1_ds` zone gets a SHA-1 DS record: both validate, and RFC 8624 advises against
(RSASHA1) or forbids (SHA-1 DS digests) them.
"""
from __future__ import annotations

import datetime
import hashlib
import os
import time
from pathlib import Path

import dns.dnssec
import dns.dnssecalgs
import dns.name
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.rdtypes.ANY.DNSKEY
import dns.rdtypes.ANY.RRSIG
import dns.rrset
import dns.zone
from cryptography.hazmat.primitives.asymmetric import ec

from lab.hostile import INTERNAL_ADDRESSES, internal_name
from lab.pki import spki_sha256
from lab.plan import PLAIN_RESOLVER_IPV4, PLAIN_RESOLVER_IPV6, LabPlan, ZonePlan

TTL = 300
ALGORITHM = dns.dnssec.Algorithm.ECDSAP256SHA256
CAA_ISSUER = "labca.example"
KEYTRAP_TAG = 31337      # the key tag every KeyTrap key and signature carries
KEYTRAP_KEYS = 80        # RSA DNSKEYs with that tag
KEYTRAP_SIGNATURES = 150  # RRSIGs with that tag on each attacked RRset
KEYTRAP_BITS = 2048      # modulus and exponent length of those keys


def _key():
    private = ec.generate_private_key(ec.SECP256R1())
    return private, dns.dnssec.make_dnskey(private.public_key(), ALGORITHM, flags=257)


def _rsasha1_key():
    """A zone key of RSASHA1, which RFC 8624 does not recommend for signing (validators must still accept it)."""
    private = dns.dnssecalgs.get_algorithm_cls(dns.dnssec.Algorithm.RSASHA1).generate(2048)
    return private, private.public_key().to_dnskey(flags=257)


def colliding_rsa_keys(tag: int, count: int, bits: int = KEYTRAP_BITS, exponent: int | None = None) -> list:
    """`count` RSA zone keys (RSASHA256) whose key tag is `tag`, each with the public `exponent` or, by
    default, a random one as long as its modulus: a verification with such a key costs a full-size modular
    exponentiation. The key tag is a checksum of the record (RFC 4034 appendix B), so two bytes of the
    modulus are chosen to give `tag`. Nobody holds the private keys: nothing verifies with them."""
    size = bits // 8
    keys = []
    while len(keys) < count:
        exponent_bytes = (exponent.to_bytes((exponent.bit_length() + 7) // 8, "big") if exponent else
                          bytes([0x80 | os.urandom(1)[0]]) + os.urandom(size - 2) + bytes([os.urandom(1)[0] | 1]))
        modulus = bytearray(bytes([0x80 | os.urandom(1)[0]]) + os.urandom(size - 1))
        modulus[-1] |= 1
        length = len(exponent_bytes)  # RFC 3110: one byte, or a zero and two bytes above 255
        prefix = bytes([length]) if length <= 255 else b"\0" + length.to_bytes(2, "big")
        key = bytearray(prefix + exponent_bytes + modulus)
        rdata_length = 4 + len(key)
        at = rdata_length - 2 if rdata_length % 2 == 0 else rdata_length - 3  # a 16-bit word of the checksum
        at -= 4  # ... as an offset in `key`, after flags, protocol and algorithm
        key[at:at + 2] = b"\0\0"
        candidate = _dnskey(bytes(key))
        partial = sum(b << 8 if i % 2 == 0 else b for i, b in enumerate(candidate.to_wire()))
        for word in ((tag - partial - (partial >> 16) + delta) & 0xFFFF for delta in (0, -1, 1)):
            key[at:at + 2] = word.to_bytes(2, "big")
            candidate = _dnskey(bytes(key))
            if dns.dnssec.key_id(candidate) == tag:
                keys.append(candidate)
                break
    return keys


def _dnskey(key: bytes):
    return dns.rdtypes.ANY.DNSKEY.DNSKEY(dns.rdataclass.IN, dns.rdatatype.DNSKEY, 256, 3,
                                         dns.dnssec.Algorithm.RSASHA256, key)


def keytrap(zone: dns.zone.Zone, signing_key: tuple, owners: list[dns.name.Name], inception, expiration) -> None:
    """Make a signed zone a KeyTrap zone: KEYTRAP_KEYS colliding keys join its DNSKEY set, which is signed
    again with `signing_key` (private key, DNSKEY) so that it still validates; the A and AAAA records of
    `owners` lose their signatures and get KEYTRAP_SIGNATURES RRSIGs with the colliding tag instead."""
    private, dnskey = signing_key
    origin = zone.origin
    with zone.writer() as txn:
        keys = txn.get(origin, dns.rdatatype.DNSKEY)
        ttl = keys.ttl
        keyset = dns.rrset.from_rdata_list(origin, ttl, [*keys, *colliding_rsa_keys(KEYTRAP_TAG, KEYTRAP_KEYS)])
        txn.replace(origin, keyset)
        txn.replace(origin, dns.rrset.from_rdata(origin, ttl, dns.dnssec.sign(
            keyset, private, origin, dnskey, inception=inception, expiration=expiration)))
        for owner in owners:
            for covered in (dns.rdatatype.A, dns.rdatatype.AAAA):
                rdataset = txn.get(owner, covered)
                if rdataset is None:
                    continue
                signatures = [dns.rdtypes.ANY.RRSIG.RRSIG(
                    dns.rdataclass.IN, dns.rdatatype.RRSIG, covered, dns.dnssec.Algorithm.RSASHA256,
                    len(owner) - 1, rdataset.ttl, int(dns.dnssec.to_timestamp(expiration)),
                    int(dns.dnssec.to_timestamp(inception)), KEYTRAP_TAG, origin, os.urandom(KEYTRAP_BITS // 8))
                    for _ in range(KEYTRAP_SIGNATURES)]
                txn.replace(owner, dns.rrset.from_rdata_list(owner, rdataset.ttl, signatures))


def _zone_file_name(zone: ZonePlan) -> str:
    return f"{zone.name or 'root'}.zone"


def _inside(name: str, zone: str) -> bool:
    return not zone or name == zone or name.endswith("." + zone)


def _deepest(name: str, zones) -> str:
    labels = name.split(".")
    for i in range(len(labels)):
        if ".".join(labels[i:]) in zones:
            return ".".join(labels[i:])
    return ""


class ZoneBuilder:
    def __init__(self, plan: LabPlan, directory: Path):
        self.plan = plan
        self.directory = directory
        self.now = datetime.datetime.now(datetime.timezone.utc)
        self.serial = int(time.time())
        self.names = plan.name_addresses()
        self.children: dict[str, list[ZonePlan]] = {}
        for zone in plan.zones.values():
            if zone.parent is not None:
                self.children.setdefault(zone.parent, []).append(zone)
        self.owned: dict[str, list[str]] = {}    # zone -> names whose address records it holds
        for name in sorted(self.names):
            self.owned.setdefault(_deepest(name, plan.zones), []).append(name)
        self.ds: dict[str, list[str]] = {}       # child zone -> DS rdata texts for its parent
        self.root_ds: list[str] = []

    def build(self) -> None:
        """Write every zone file, deepest zones first."""
        self.directory.mkdir(parents=True, exist_ok=True)
        for zone in sorted(self.plan.zones.values(), key=lambda z: -(z.name.count(".") + bool(z.name))):
            self._build_zone(zone)

    def _records(self, zone: ZonePlan) -> list[str]:
        """The zone's records as zone-file lines with absolute owner names."""
        origin = zone.origin
        contact = f"hostmaster.{zone.name}." if zone.name else "hostmaster."
        lines = [f"{origin} {TTL} IN SOA {zone.nameservers[0]}. {contact} {self.serial} 3600 600 86400 60"]
        lines += [f"{origin} {TTL} IN NS {ns}." for ns in zone.nameservers]
        glue = set()
        for child in self.children.get(zone.name, []):
            lines += [f"{child.origin} {TTL} IN NS {ns}." for ns in child.nameservers]
            lines += [f"{child.origin} {TTL} IN DS {ds}" for ds in self.ds.get(child.name, [])]
            glue.update(ns for ns in child.nameservers if _inside(ns, child.name))
        glue.update(ns for ns in zone.nameservers if _deepest(ns, self.plan.zones) != zone.name
                    and _inside(ns, zone.name))
        for name in sorted(set(self.owned.get(zone.name, [])) | glue):
            ipv4, ipv6 = self.names[name]
            lines += [f"{name}. {TTL} IN A {a}" for a in ipv4]
            lines += [f"{name}. {TTL} IN AAAA {a}" for a in ipv6]
        if zone.caa:
            lines.append(f'{origin} {TTL} IN CAA 0 issue "{CAA_ISSUER}"')
        if zone.mail != "none":
            lines.append(f"{origin} {TTL} IN MX 10 mail.{origin}")
            if zone.mail_tlsa != "none":
                lines.append(self._tlsa(f"_25._tcp.mail.{origin}", f"mail.{zone.name}", zone.mail_tlsa))
        for host in zone.sites:
            tlsa = self.plan.hosts[host].site["tlsa"] if self.plan.hosts[host].role != "mail" else "none"
            if tlsa != "none":
                lines.append(self._tlsa(f"_443._tcp.{host}.", host, tlsa))
            if self.plan.hosts[host].role == "site" and self.plan.hosts[host].site["hostile"] == "internal_redirect":
                lines += [f"{internal_name(host)}. {TTL} IN {'AAAA' if ':' in address else 'A'} {address}"
                          for address in INTERNAL_ADDRESSES]
        return lines

    def _tlsa(self, owner: str, host: str, mode: str) -> str:
        """TLSA 3 1 1 of the host's served leaf, or of nothing it serves for `mismatch`."""
        digest = spki_sha256(self.plan.hosts[host].cert_file.read_bytes())
        if mode == "mismatch":
            digest = hashlib.sha256(b"not the served key " + host.encode()).hexdigest()
        return f"{owner} {TTL} IN TLSA 3 1 1 {digest}"

    def _build_zone(self, zone: ZonePlan) -> None:
        origin = dns.name.from_text(zone.origin)
        text = "\n".join(self._records(zone))
        if zone.extra:
            text += f"\n$ORIGIN {zone.origin}\n$TTL {TTL}\n" + "\n".join(zone.extra)
        built = dns.zone.from_text(text + "\n", origin=origin, relativize=False, check_origin=True)
        if zone.dnssec != "insecure":
            self._sign(zone, built)
        built.to_file(str(self.directory / _zone_file_name(zone)), relativize=False, want_origin=True)

    def _sign(self, zone: ZonePlan, built: dns.zone.Zone) -> None:
        private, dnskey = _rsasha1_key() if zone.dnssec == "rsasha1" else _key()
        inception, expiration = self.now - datetime.timedelta(hours=1), self.now + datetime.timedelta(days=30)
        if zone.dnssec == "bogus_expired":
            inception, expiration = self.now - datetime.timedelta(days=40), self.now - datetime.timedelta(days=10)
        dns.dnssec.sign_zone(built, keys=[(private, dnskey)], dnskey_ttl=TTL, inception=inception,
                             expiration=expiration)
        if zone.dnssec == "bogus_missing_rrsig":
            for host in zone.sites:
                name = dns.name.from_text(host + ".")
                for covered in (dns.rdatatype.A, dns.rdatatype.AAAA):
                    built.delete_rdataset(name, dns.rdatatype.RRSIG, covered)
        if zone.dnssec == "bogus_keytrap":
            keytrap(built, (private, dnskey), [dns.name.from_text(host + ".") for host in zone.sites], inception,
                    expiration)
        ds_key = dnskey if zone.dnssec != "bogus_ds" else _key()[1]
        digest = "SHA1" if zone.dnssec == "sha1_ds" else "SHA256"  # SHA-1: RFC 8624 says MUST NOT, validators MUST
        ds = dns.dnssec.make_ds(zone.origin, ds_key, digest, policy=dns.dnssec.allow_all_policy).to_text()
        if zone.name:
            self.ds[zone.name] = [ds]
        else:
            self.root_ds = [ds]


def write_trust_anchors(builder: ZoneBuilder, plan: LabPlan) -> None:
    """The root DS as a zone-file line (for the scanner and unbound) and as delv's trust-anchors clause."""
    plan.trust_anchor_file.write_text("".join(f". {TTL} IN DS {ds}\n" for ds in builder.root_ds))
    clauses = []
    for ds in builder.root_ds:
        tag, alg, digest_type, digest = ds.split(None, 3)
        clauses.append(f'  . static-ds {tag} {alg} {digest_type} "{digest.replace(" ", "")}";\n')
    delv_anchor_file(plan).write_text("trust-anchors {\n" + "".join(clauses) + "};\n")


def delv_anchor_file(plan: LabPlan) -> Path:
    return plan.workdir / "dns" / "root.anchor.conf"


def nsd_config(plan: LabPlan, server_name: str, zones_dir: Path, run_dir: Path) -> str:
    server = plan.nameservers[server_name]
    lines = ["server:"]
    lines += [f"  ip-address: {a}" for a in server.ipv4 + server.ipv6]
    lines += ["  port: 53", "  server-count: 1", '  username: ""', '  chroot: ""', '  database: ""',
              f'  zonesdir: "{zones_dir}"', f'  zonelistfile: "{run_dir}/zone.list"',
              f'  xfrdfile: "{run_dir}/xfrd.state"', f'  xfrdir: "{run_dir}"', f'  pidfile: "{run_dir}/nsd.pid"',
              f'  logfile: "{run_dir}/nsd.log"', "  hide-version: yes", "  verbosity: 1", "  tcp-count: 64",
              "  refuse-any: yes", "remote-control:", "  control-enable: no"]
    for zone_name in server.zones:
        zone = plan.zones[zone_name]
        lines += ["zone:", f'  name: "{zone.origin}"', f'  zonefile: "{_zone_file_name(zone)}"']
    return "\n".join(lines) + "\n"


def unbound_config(plan: LabPlan, run_dir: Path, validating: bool = True) -> str:
    """The lab resolver; `validating=False` gives the plain one that leaves validation to its client."""
    addresses = [plan.resolver_ipv4, plan.resolver_ipv6] if validating else [PLAIN_RESOLVER_IPV4,
                                                                            PLAIN_RESOLVER_IPV6]
    lines = ["server:", *(f"  interface: {a}" for a in addresses),
             "  port: 53", "  do-daemonize: no", '  chroot: ""', '  username: ""', f'  directory: "{run_dir}"',
             f'  pidfile: "{run_dir}/unbound.pid"', f'  logfile: "{run_dir}/unbound.log"', "  use-syslog: no",
             "  num-threads: 1", "  so-reuseport: no", "  interface-automatic: no",
             "  access-control: 0.0.0.0/0 refuse", "  access-control: ::/0 refuse"]
    for lab_range in ("198.51.100.0/24", "203.0.113.0/24", "2001:db8::/32", "127.0.0.0/8", "::1/128"):
        lines.append(f"  access-control: {lab_range} allow")
    lines.append(f'  root-hints: "{run_dir}/root.hints"')
    if validating:
        lines += [f'  trust-anchor-file: "{plan.trust_anchor_file}"', '  module-config: "validator iterator"',
                  "  harden-dnssec-stripped: yes", "  val-log-level: 2", "  ede: yes"]
    else:
        lines.append('  module-config: "iterator"')
    lines += ["  qname-minimisation: no", "  cache-max-ttl: 300", "  cache-max-negative-ttl: 30",
              "  infra-host-ttl: 60", "  do-not-query-localhost: yes", "  prefetch: no",
              "remote-control:", "  control-enable: no"]
    return "\n".join(lines) + "\n"


def root_hints(plan: LabPlan) -> str:
    root = plan.zones[""]
    lines = [f". 3600000 IN NS {ns}." for ns in root.nameservers]
    for ns in root.nameservers:
        server = plan.nameservers[ns]
        lines += [f"{ns}. 3600000 IN A {a}" for a in server.ipv4]
        lines += [f"{ns}. 3600000 IN AAAA {a}" for a in server.ipv6]
    return "\n".join(lines) + "\n"


def build(plan: LabPlan) -> list[tuple[str, list[str], list[tuple[str, int]]]]:
    """Write zones, trust anchors and server configs; return (name, argv, ports) of each DNS server."""
    base = plan.workdir / "dns"
    zones_dir = base / "zones"
    builder = ZoneBuilder(plan, zones_dir)
    builder.build()
    write_trust_anchors(builder, plan)
    servers = []
    for name, server in plan.nameservers.items():
        if not server.responsive or not server.zones:
            continue
        run_dir = base / "nsd" / name
        run_dir.mkdir(parents=True, exist_ok=True)
        config = run_dir / "nsd.conf"
        config.write_text(nsd_config(plan, name, zones_dir, run_dir))
        ports = [(a, 53) for a in server.ipv4 + server.ipv6]
        servers.append((f"nsd {name}", ["/usr/sbin/nsd", "-d", "-c", str(config)], ports))
    run_dir = base / "unbound"
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / "root.hints").write_text(root_hints(plan))
    (run_dir / "unbound.conf").write_text(unbound_config(plan, run_dir))
    servers.append(("unbound", ["/usr/sbin/unbound", "-d", "-c", str(run_dir / "unbound.conf")],
                    [(plan.resolver_ipv4, 53), (plan.resolver_ipv6, 53)]))
    plain_dir = base / "unbound-plain"
    plain_dir.mkdir(parents=True, exist_ok=True)
    (plain_dir / "root.hints").write_text(root_hints(plan))
    (plain_dir / "unbound.conf").write_text(unbound_config(plan, plain_dir, validating=False))
    servers.append(("unbound-plain", ["/usr/sbin/unbound", "-d", "-c", str(plain_dir / "unbound.conf")],
                    [(PLAIN_RESOLVER_IPV4, 53), (PLAIN_RESOLVER_IPV6, 53)]))
    return servers
