"""The deployment in docs/deploy.md as far as one machine can test it: the systemd units start commands that
govscan's command line accepts, systemd finds nothing wrong in them, and the settings file they point at
loads with every key known."""
from __future__ import annotations

import configparser
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest

from scanner import config
from scanner.cli import build_parser

DEPLOY = Path(__file__).resolve().parents[2] / "docs" / "deploy"
GOVSCAN = "/opt/govscan/bin/govscan"
INSTANCES = {"govscan-worker@.service": ("network", "browser", "all"), "govscan-scheduler.service": ("",)}


def service(unit: str) -> dict[str, str]:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str
    parser.read(DEPLOY / unit)
    return dict(parser["Service"])


def environment(name: str) -> dict[str, str]:
    """A unit's EnvironmentFile as shipped (docs/deploy/), empty when there is none for it."""
    path = DEPLOY / name
    lines = path.read_text().splitlines() if path.exists() else []
    return dict(line.split("=", 1) for line in lines if line and not line.startswith("#"))


@pytest.mark.parametrize("unit", sorted(INSTANCES))
def test_each_unit_starts_a_command_govscan_accepts(unit):
    argv = shlex.split(service(unit)["ExecStart"])
    assert argv[0] == GOVSCAN
    for instance in INSTANCES[unit]:
        options = environment(f"worker-{instance}.env").get("GOVSCAN_WORKER_OPTIONS", "")
        words = [w.replace("%i", instance) for w in argv[1:] if w != "$GOVSCAN_WORKER_OPTIONS"]
        args = build_parser("en").parse_args(words + shlex.split(options))
        assert args.func.__name__ in ("cmd_worker", "cmd_schedule")
        if instance:
            assert args.families == instance
    assert "Environment=GOVSCAN_CONFIG=/etc/govscan/settings.toml" in (DEPLOY / unit).read_text()


def test_systemd_finds_nothing_wrong_in_the_units(tmp_path):
    assert shutil.which("systemd-analyze"), "systemd-analyze (package systemd) checks the unit files"
    govscan = shutil.which("govscan") or str(Path(__file__).resolve().parents[2] / ".venv" / "bin" / "govscan")
    names = []
    for unit in INSTANCES:  # as installed: the executable where this machine has it, the template instantiated
        name = unit.replace("@.", "@network.")
        (tmp_path / name).write_text((DEPLOY / unit).read_text().replace(GOVSCAN, govscan))
        names.append(str(tmp_path / name))
    verified = subprocess.run(["systemd-analyze", "verify", *names], capture_output=True, text=True)
    assert verified.returncode == 0 and not verified.stderr.strip(), verified.stderr


def test_the_deployment_settings_load_with_every_key_known():
    settings = config.load(DEPLOY / "settings.toml")
    assert settings.storage.url.startswith("postgresql://")
    assert settings.workers.limiter_url.startswith("redis://")
    assert settings.workers.distributed
