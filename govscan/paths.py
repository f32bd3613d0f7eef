"""Where govscan finds its files. Three places, never mixed:

- the package's own data (`config/` in the checkout, `govscan/config` when installed): default settings,
  policy tables, the cookie and tracker lists it ships, boundaries, the DNSSEC root anchor. Read-only:
  nothing is ever written there.
- the user's settings: `--config FILE`, else `$GOVSCAN_CONFIG`, else `$XDG_CONFIG_HOME/govscan/settings.toml`
  when that file exists.
- the user's data: `$GOVSCAN_DATA_DIR`, else `$XDG_DATA_HOME/govscan` (`~/.local/share/govscan`): the
  SQLite database and what `govscan import` brings in (cookie database, tracker list, RIO export). A file
  there takes the place of the packaged default of the same name.
"""
from __future__ import annotations

import os
from importlib import resources
from pathlib import Path


def package_data(*parts: str) -> Path:
    """A file of the package's own data. Wheels install as plain files, so this is a real path."""
    return Path(str(resources.files("govscan.config").joinpath(*parts)))


def user_config_file() -> Path | None:
    """The user's settings file when none is given with --config: `$GOVSCAN_CONFIG`, else the XDG one if it
    exists (None when there is neither)."""
    if os.environ.get("GOVSCAN_CONFIG"):
        return Path(os.environ["GOVSCAN_CONFIG"])
    home = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
    path = home / "govscan" / "settings.toml"
    return path if path.exists() else None


def data_dir() -> Path:
    """The user's data directory (it may not exist yet)."""
    if os.environ.get("GOVSCAN_DATA_DIR"):
        return Path(os.environ["GOVSCAN_DATA_DIR"])
    return Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share") / "govscan"


def user_data(name: str) -> Path:
    """Where `govscan import` keeps data called `name` (for example `cookies.csv`)."""
    return data_dir() / name


def data_file(name: str) -> Path:
    """Data called `name` as in force: the user's imported copy when there is one, else the package's."""
    imported = user_data(name)
    return imported if imported.exists() else package_data(name)
