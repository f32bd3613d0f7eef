"""The web checks' thresholds and value tables (config/policy/web.toml), read once.

Checks take every number and list from here, so that a change of norm is a change of that file; each check
puts `version` in its details so that old results can be re-evaluated against the policy they were made with.
"""
from __future__ import annotations

import tomllib
from functools import lru_cache
from typing import Any

from govscan.paths import package_data

WEB_POLICY = package_data("policy", "web.toml")


@lru_cache(maxsize=1)
def policy() -> dict[str, Any]:
    with open(WEB_POLICY, "rb") as fh:
        return tomllib.load(fh)


def version() -> str:
    return policy()["policy"]["version"]
