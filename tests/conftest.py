"""Shared pytest setup: the `lab` marker and the session-wide `lab` fixture.

The `lab` fixture brings the lab up with the default scenario unless it already runs it, yields
`govscan lab status --json` as a dict, and brings the lab down at the end of the session only if this
session started it. Tests marked `lab_restart` stop and start the lab themselves; they run last.
"""
from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

_HOME = Path(tempfile.mkdtemp(prefix="govscan-test-home-"))


def pytest_configure(config):
    # The suite never reads the developer's own settings nor writes into their data directory
    # (govscan/paths.py): both point into a directory of its own, removed at the end.
    os.environ["XDG_CONFIG_HOME"] = str(_HOME / "config")
    os.environ["XDG_DATA_HOME"] = str(_HOME / "data")
    for name in ("GOVSCAN_CONFIG", "GOVSCAN_DATA_DIR"):
        os.environ.pop(name, None)
    config.addinivalue_line("markers", "lab: needs the running lab (started once per test session by tests/conftest.py)")
    config.addinivalue_line("markers", "lab_restart: stops and restarts the lab; run after every other test")


def pytest_unconfigure(config):
    shutil.rmtree(_HOME, ignore_errors=True)


def pytest_collection_modifyitems(config, items):
    """Tests that restart the lab go last, so they never pull the lab from under another test."""
    items.sort(key=lambda item: item.get_closest_marker("lab_restart") is not None)


@pytest.fixture(scope="session")
def lab():
    from lab import commands
    from lab.scenario import DEFAULT_SCENARIO

    status = commands.status()
    started = False
    if not (status["running"] and Path(status["scenario"]).resolve() == DEFAULT_SCENARIO.resolve()):
        status = commands.up(DEFAULT_SCENARIO)
        started = True
    yield status
    if started and commands.status().get("running"):
        commands.down()
