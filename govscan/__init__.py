"""govscan's own leaf package: the shared vocabulary (`govscan.model`), where data lives (`govscan.paths`),
and the default settings and policy data (`govscan/config`, installed from the checkout's `config/`).

It imports nothing else of the project, so every layer (scanner, checks, storage, reports) may use it.
"""
from importlib import metadata

try:
    __version__ = metadata.version("govscan")
except metadata.PackageNotFoundError:  # running from a checkout that was never installed
    __version__ = "0+unknown"
