"""Settings: `config/settings.toml`, overridden by a file given with `--config` (or the running lab's with
`--lab`). Every key has a default there; this module only merges and types them."""
from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

CONFIG_DIR = Path(__file__).resolve().parent.parent / "config"
DEFAULT_SETTINGS = CONFIG_DIR / "settings.toml"
IANA_ROOT_ANCHOR = CONFIG_DIR / "root-anchors.txt"


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


@dataclass
class DnsSettings:
    resolvers: str | list[str] = "system"
    port: int = 53
    timeout: float = 3.0
    trust_anchor: str = ""

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
        path = Path(os.environ.get("GOVSCAN_DATA_DIR", Path.home() / ".local/share/govscan")) / "govscan.db"
        return f"sqlite:///{path}"


@dataclass
class BrowserSettings:
    executable: str = "/usr/bin/chromium"
    settle_seconds: float = 5.0
    subpages: int = 5
    subpage_depth: int = 3
    visit_timeout: float = 45.0
    concurrency: int = 4
    canary_url: str = "https://canary.govscan-lab.com/"
    axe_script: str = ""


@dataclass
class RegisterSettings:
    rio_export: str = ""


@dataclass
class Settings:
    scan: ScanSettings = field(default_factory=ScanSettings)
    dns: DnsSettings = field(default_factory=DnsSettings)
    trust: TrustSettings = field(default_factory=TrustSettings)
    storage: StorageSettings = field(default_factory=StorageSettings)
    browser: BrowserSettings = field(default_factory=BrowserSettings)
    register: RegisterSettings = field(default_factory=RegisterSettings)
    # Free-form sections (for example [lab]) kept as read, for the parts that need them.
    extra: dict[str, Any] = field(default_factory=dict)
    sources: list[str] = field(default_factory=list)


def _merge(base: dict, override: dict) -> dict:
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _read(path: Path) -> dict:
    try:
        with open(path, "rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError(f"{path}: configuration file not found") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: {exc}") from None


def load(config: str | Path | None = None, lab: bool = False, overrides: dict | None = None) -> Settings:
    """Defaults, then the lab's scanner config (with `lab=True`), then `config`, then `overrides`."""
    raw = _read(DEFAULT_SETTINGS)
    sources = [str(DEFAULT_SETTINGS)]
    paths = []
    if lab:
        if not lab_config_path().exists():
            raise ConfigError(f"no running lab: {lab_config_path()} is missing (start it with 'govscan lab up')")
        paths.append(lab_config_path())
    if config:
        paths.append(Path(config))
    for path in paths:
        raw = _merge(raw, _read(path))
        sources.append(str(path))
    if overrides:
        raw = _merge(raw, overrides)
    sections = {"scan": ScanSettings, "dns": DnsSettings, "trust": TrustSettings, "storage": StorageSettings,
                "browser": BrowserSettings, "register": RegisterSettings}
    settings = Settings(sources=sources)
    for name, cls in sections.items():
        values = raw.pop(name, {})
        known = {f.name for f in fields(cls)}
        unknown = set(values) - known
        if unknown:
            raise ConfigError(f"[{name}]: unknown setting(s) {', '.join(sorted(unknown))}")
        setattr(settings, name, cls(**values))
    settings.extra = raw
    return settings
