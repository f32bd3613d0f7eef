"""Settings: the package's defaults (config/settings.toml), then the running lab's (`--lab`), then the user's
file (`--config`, `$GOVSCAN_CONFIG` or `$XDG_CONFIG_HOME/govscan/settings.toml`, see govscan/paths.py), then
command-line options. Every key has a default in the package; this module merges and types them, and
remembers where each value came from (`govscan config show`)."""
from __future__ import annotations

import os
import tomllib
import types
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, get_args, get_origin, get_type_hints

from checks.cookie_policy import POLICY_FILES
from govscan import paths
from scanner.addresses import AddressPolicy

DEFAULT_SETTINGS = paths.package_data("settings.toml")
IANA_ROOT_ANCHOR = paths.package_data("root-anchors.txt")
RIO_EXPORT = "rio-export.csv"  # name of the imported RIO export in the data directory


def lab_dir() -> Path:
    """Where a running lab keeps its state, including the scanner config it writes (`scanner.toml`)."""
    return Path(os.environ.get("GOVSCAN_LAB_DIR", "/run/govscan-lab"))


def lab_config_path() -> Path:
    return lab_dir() / "scanner.toml"


class ConfigError(Exception):
    pass


@dataclass
class ScanSettings:
    sites_in_flight: int = 50
    connections_per_host: int = 4
    probe_timeout: float = 20.0
    connect_timeout: float = 5.0
    max_body_bytes: int = 512000
    threads: int = 8
    ipv6_check_address: str = "2001:503:ba3e::2:30"
    user_agent: str = ""
    lang: str = "nl"
    smtp_max_reply_lines: int = 100
    smtp_max_line_bytes: int = 8192
    spf_timeout: float = 20.0
    # Networks the scanner may connect to besides globally reachable addresses (scanner/addresses.py).
    allowed_networks: list[str] = field(default_factory=list)

    def __post_init__(self):
        try:
            self.address_policy = AddressPolicy(self.allowed_networks)
        except ValueError as exc:
            raise ConfigError(f"scan.allowed_networks: {exc}") from None


@dataclass
class DnsSettings:
    resolvers: str | list[str] = "system"
    port: int = 53
    timeout: float = 3.0
    trust_anchor: str = ""
    max_answer_records: int = 200
    max_signatures_per_rrset: int = 8
    max_keys_per_key_tag: int = 4
    max_verifications: int = 256
    max_rsa_exponent_bits: int = 32
    max_rsa_modulus_bits: int = 4096
    max_nameservers: int = 8
    max_addresses_per_name: int = 8
    nameserver_queries_in_flight: int = 4

    @property
    def trust_anchor_path(self) -> Path:
        return Path(self.trust_anchor) if self.trust_anchor else IANA_ROOT_ANCHOR


@dataclass
class TrustSettings:
    ca_bundle: str = ""

    @property
    def ca_bundle_path(self) -> Path:
        if self.ca_bundle:
            return Path(self.ca_bundle)
        import certifi

        return Path(certifi.where())


@dataclass
class StorageSettings:
    database_url: str = ""

    @property
    def url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{paths.data_dir() / 'govscan.db'}"


@dataclass
class BrowserSettings:
    executable: str = "/usr/bin/chromium"
    settle_seconds: float = 4.0         # the floor: the first page of each state waits at least this long
    settle_quiet_seconds: float = 1.0   # settled: no request, response or script cookie write for this long
    settle_cap_seconds: float = 10.0    # ... or this long after load, whatever the page does
    subpages: int = 5
    subpage_depth: int = 3
    axe_subpages: int = 1               # axe-core on the front page and this many subpages
    visit_timeout: float = 45.0
    unresponsive_seconds: float = 10.0  # a page whose main thread does not answer this long fails the visit
    concurrency: int = 0                # sites at a time; 0: from the cores and memory_mb (scanner/probes/browser.py)
    memory_mb: int = 1800               # PSS the sites in flight may take; 0: half the available memory
    canary_url: str = "https://canary.govscan-lab.com/"
    axe_script: str = ""
    cookie_value_chars: int = 64


@dataclass
class RegisterSettings:
    rio_export: str = ""

    @property
    def rio_export_path(self) -> Path | None:
        """The RIO export in force: the setting, else the copy `govscan import rio` keeps in the data
        directory, else None (domain.rio is then not applicable)."""
        if self.rio_export:
            return Path(self.rio_export)
        imported = paths.user_data(RIO_EXPORT)
        return imported if imported.exists() else None


@dataclass
class RpkiSettings:
    """RPKI route origin validation from files (scanner/probes/rpki.py, docs/rpki.md); empty: not applicable."""
    vrp_file: str = ""                # validated ROA payloads, Routinator / rpki-client JSON
    routes_file: str = ""             # announced prefixes and origin ASes, CAIDA pfx2as text
    max_file_bytes: int = 512 * 1024 * 1024
    max_entries: int = 4_000_000      # ROAs and routes each


@dataclass
class ServiceSettings:
    """`govscan serve` (scanner/service): the web service's limits and who it trusts."""
    host: str = "127.0.0.1"
    port: int = 8080
    public_url: str = ""              # how users reach it (links in reports, security.txt); empty: http://host:port
    recheck_minutes: float = 10.0     # a site checked again within this gets the stored result
    checks_per_hour: int = 10         # on-demand checks per client address per hour
    sites_at_once: int = 4            # sites the service scans at the same time; the rest wait in line
    trusted_proxies: list[str] = field(default_factory=list)  # addresses whose X-Forwarded-For is believed
    contact_email: str = ""           # for /.well-known/security.txt and the accessibility statement
    batch_max_domains: int = 5000     # domains in one batch API request
    token_domains_per_day: int = 10000  # a batch API token's quota unless `token create --max-domains` says


@dataclass
class WorkersSettings:
    """Scans spread over Celery workers (scanner/workers.py, docs/deploy.md)."""
    # Redis that holds the per-host and per-address connection limits for every worker (scanner/limits.py),
    # e.g. "redis://broker.internal:6379/1"; empty: each process keeps its own limits (single-process mode).
    limiter_url: str = ""
    limit_lease_seconds: float = 30.0  # a dead worker's connection slots are free again after this
    # The Celery broker of distributed runs (scanner/workers.py, docs/workers.md): RabbitMQ, or redis://...
    broker_url: str = "amqp://guest:guest@127.0.0.1:5672//"
    distributed: bool = False          # the scheduler's runs are scanned by workers, not in its own process
    lease_seconds: float = 120.0       # a worker's claim on a site, renewed while it scans; a killed one's runs out
    republish_seconds: float = 300.0   # the coordinator publishes the queued sites again when none finished this long
    time_limit_margin: float = 60.0    # seconds a task may take beyond its probes' timeouts
    visibility_timeout: float = 21600.0  # Redis broker: an unacknowledged task is delivered again after this


@dataclass
class NotifySettings:
    """Notices on change (scanner/notify.py, docs/notices.md): where digests go and how hard to try."""
    site_url: str = ""                # the published site (govscan publish), for links to organisation pages
    smtp_host: str = ""               # empty: e-mail subscriptions cannot be served (a recorded failure)
    smtp_port: int = 587
    smtp_user: str = ""               # empty: no login
    smtp_password_env: str = "GOVSCAN_SMTP_PASSWORD"  # the environment variable that holds the password
    smtp_from: str = ""
    smtp_starttls: bool = True        # STARTTLS required (with a trusted certificate, [trust] ca_bundle)
    timeout: float = 10.0             # seconds for one connection, read or write
    attempts: int = 3                 # tries per digest within one sending step
    backoff_seconds: float = 2.0      # wait before the second try, doubled before each next one
    budget_seconds: float = 120.0     # the whole sending step after a run; what is left waits for the next run
    expiring_days: int = 30           # an explanation ending within this many days is told
    # Networks a webhook may be at besides globally reachable addresses (like [scan] allowed_networks).
    allowed_networks: list[str] = field(default_factory=list)

    def __post_init__(self):
        try:
            self.address_policy = AddressPolicy(self.allowed_networks)
        except ValueError as exc:
            raise ConfigError(f"notify.allowed_networks: {exc}") from None


@dataclass
class Settings:
    scan: ScanSettings = field(default_factory=ScanSettings)
    dns: DnsSettings = field(default_factory=DnsSettings)
    trust: TrustSettings = field(default_factory=TrustSettings)
    storage: StorageSettings = field(default_factory=StorageSettings)
    browser: BrowserSettings = field(default_factory=BrowserSettings)
    register: RegisterSettings = field(default_factory=RegisterSettings)
    rpki: RpkiSettings = field(default_factory=RpkiSettings)
    service: ServiceSettings = field(default_factory=ServiceSettings)
    workers: WorkersSettings = field(default_factory=WorkersSettings)
    notify: NotifySettings = field(default_factory=NotifySettings)
    # Free-form sections (for example [lab]) kept as read, for the parts that need them.
    extra: dict[str, Any] = field(default_factory=dict)
    sources: list[str] = field(default_factory=list)
    # "section.key" -> where its value came from (a file, or "command line").
    origins: dict[str, str] = field(default_factory=dict)


SECTIONS = {"scan": ScanSettings, "dns": DnsSettings, "trust": TrustSettings, "storage": StorageSettings,
            "browser": BrowserSettings, "register": RegisterSettings, "rpki": RpkiSettings,
            "service": ServiceSettings, "workers": WorkersSettings, "notify": NotifySettings}


def _merge(base: dict, override: dict, origins: dict[str, str], source: str, prefix: str = "") -> dict:
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value, origins, source, f"{prefix}{key}.")
        else:
            merged[key] = value
            for name in _leaves(value, f"{prefix}{key}"):
                origins[name] = source
    return merged


def _leaves(value, name: str) -> list[str]:
    if isinstance(value, dict):
        return [leaf for key, inner in value.items() for leaf in _leaves(inner, f"{name}.{key}")]
    return [name]


def _read(path: Path) -> dict:
    try:
        with open(path, "rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError(f"{path}: configuration file not found") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: {exc}") from None


def load(config: str | Path | None = None, lab: bool = False, overrides: dict | None = None) -> Settings:
    """Defaults, then the lab's scanner config (with `lab=True`), then the user's file (`config`, else the
    one govscan/paths.py finds), then `overrides` (command-line options)."""
    origins: dict[str, str] = {}
    raw = _merge({}, _read(DEFAULT_SETTINGS), origins, "default")
    sources = [str(DEFAULT_SETTINGS)]
    chosen = []
    if lab:
        if not lab_config_path().exists():
            raise ConfigError(f"no running lab: {lab_config_path()} is missing (start it with 'govscan lab up')")
        chosen.append(lab_config_path())
    user = Path(config) if config else paths.user_config_file()
    if user:
        chosen.append(user)
    for path in chosen:
        raw = _merge(raw, _read(path), origins, str(path))
        sources.append(str(path))
    if overrides:
        raw = _merge(raw, overrides, origins, "command line")
    settings = Settings(sources=sources, origins=origins)
    for name, cls in SECTIONS.items():
        values = raw.pop(name, {})
        if not isinstance(values, dict):
            raise ConfigError(f"{origins.get(name, 'settings')}: [{name}] must be a table, got {values!r}")
        known = {f.name for f in fields(cls)}
        unknown = set(values) - known
        if unknown:
            raise ConfigError(f"[{name}]: unknown setting(s) {', '.join(sorted(unknown))}")
        hints = get_type_hints(cls)
        for key, value in values.items():
            if not _conforms(value, hints[key]):
                raise ConfigError(f"{origins.get(f'{name}.{key}', 'settings')}: {name}.{key}: expected "
                                  f"{_describe(hints[key])}, got {value!r}")
        setattr(settings, name, cls(**values))
    settings.extra = raw
    return settings


def _conforms(value: Any, hint) -> bool:
    """Whether a value read from TOML fits a setting's annotation (an int is a fine float; a bool is not an
    int)."""
    if isinstance(hint, types.UnionType):
        return any(_conforms(value, option) for option in get_args(hint))
    if get_origin(hint) is list:
        (item,) = get_args(hint)
        return isinstance(value, list) and all(_conforms(v, item) for v in value)
    if hint is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, hint)


def _describe(hint) -> str:
    if isinstance(hint, types.UnionType):
        return " or ".join(_describe(option) for option in get_args(hint))
    if get_origin(hint) is list:
        item = get_args(hint)[0]
        return "a list of " + {str: "strings", int: "integers", float: "numbers"}.get(item, str(item))
    return {str: "a string", int: "an integer", float: "a number", bool: "true or false"}.get(hint, str(hint))


def in_force(settings: Settings) -> list[tuple[str, Any, str]]:
    """Every setting as (section.key, value, where it came from), in the order of the sections, followed by
    the places govscan reads and writes data."""
    from storage.store import masked

    rows = []
    for name in SECTIONS:
        for f in fields(SECTIONS[name]):
            key = f"{name}.{f.name}"
            value = getattr(getattr(settings, name), f.name)
            secret = key in ("storage.database_url", "workers.broker_url") and value
            rows.append((key, masked(value) if secret else value, settings.origins.get(key, "default")))
    for section, values in settings.extra.items():
        for key in _leaves(values, section):
            value = values
            for part in key.split(".")[1:]:
                value = value[part]
            rows.append((key, value, settings.origins.get(key, "default")))
    rows += [
        ("paths.database", masked(settings.storage.url), "storage.database_url" if settings.storage.database_url
         else "data directory"),
        ("paths.data_dir", str(paths.data_dir()), "$GOVSCAN_DATA_DIR" if os.environ.get("GOVSCAN_DATA_DIR")
         else "$XDG_DATA_HOME" if os.environ.get("XDG_DATA_HOME") else "default"),
        ("paths.trust_anchor", str(settings.dns.trust_anchor_path), "dns.trust_anchor"),
        ("paths.ca_bundle", str(settings.trust.ca_bundle_path), "trust.ca_bundle"),
        ("paths.package_data", str(paths.package_data()), "package"),
    ]
    for name in POLICY_FILES:
        path = paths.data_file(name)
        rows.append((f"paths.{name}", str(path), "imported" if path == paths.user_data(name) else "package"))
    rio = settings.register.rio_export_path
    rows.append(("paths.rio_export", str(rio or ""), "register.rio_export" if settings.register.rio_export
                 else "imported" if rio else "none (domain.rio not applicable)"))
    return rows
