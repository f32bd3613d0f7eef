"""govscan as a user installs it: a wheel built with `python -m build`, installed with pip into a fresh virtual
environment in a directory outside the checkout, run from there against the lab. It must carry everything it
needs (settings, policy tables, browser scripts, axe-core, migrations), install nothing but its own packages,
and judge a lab site exactly as the checkout does."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import venv
from pathlib import Path

import pytest

pytestmark = pytest.mark.lab

ROOT = Path(__file__).resolve().parents[2]
SITE = "www.noordstad.nl"
OUR_FOLDERS = {"govscan", "scanner", "checks", "storage", "reports"}


def run(argv: list, cwd: Path, env: dict, timeout: float = 900) -> subprocess.CompletedProcess:
    done = subprocess.run([str(a) for a in argv], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=timeout)
    assert done.returncode == 0, f"{argv}: exit {done.returncode}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done


@pytest.fixture(scope="module")
def room(tmp_path_factory, lab):
    """The wheel installed into a new virtual environment; commands run with a clean environment from a
    directory that is not the checkout, with settings and data directories of their own."""
    where = tmp_path_factory.mktemp("clean-room")
    env = {key: value for key, value in os.environ.items() if not key.startswith(("PYTHON", "VIRTUAL_ENV"))}
    env.update(PYTHONNOUSERSITE="1", XDG_CONFIG_HOME=str(where / "config"), XDG_DATA_HOME=str(where / "data"))
    # The sdist first and the wheel from it, as a release is built: the wheel then holds only what the sdist
    # carries, and nothing is built inside the checkout.
    run([sys.executable, "-m", "build", "--outdir", where / "dist", ROOT], where, env)
    wheel = next((where / "dist").glob("govscan-*.whl"))
    venv.create(where / "venv", with_pip=True)
    run([where / "venv" / "bin" / "python", "-m", "pip", "install", "-q", wheel], where, env)
    return {"dir": where, "env": env, "bin": where / "venv" / "bin", "wheel": wheel}


def govscan(room: dict, *argv) -> subprocess.CompletedProcess:
    return run([room["bin"] / "govscan", *argv], room["dir"], room["env"])


def test_version_matches_the_project(room):
    version = govscan(room, "--version").stdout.split()
    assert version[0] == "govscan" and version[1] == room["wheel"].name.split("-")[1]


def test_settings_and_data_come_from_the_installed_package(room):
    shown = {row["key"]: row for row in json.loads(govscan(room, "config", "show", "--format", "json").stdout)}
    package_data = Path(shown["paths.package_data"]["value"])
    assert package_data.is_relative_to(room["dir"] / "venv") and (package_data / "settings.toml").is_file()
    assert shown["scan.probe_timeout"]["source"] == "default"
    assert shown["paths.database"]["value"] == f"sqlite:///{room['dir'] / 'data' / 'govscan' / 'govscan.db'}"
    assert Path(shown["paths.cookies.csv"]["value"]).is_relative_to(package_data)


def test_a_users_settings_file_is_read_and_named(room):
    settings = room["dir"] / "config" / "govscan" / "settings.toml"
    settings.parent.mkdir(parents=True, exist_ok=True)
    settings.write_text("[scan]\nprobe_timeout = 7.5\n")
    try:
        shown = {row["key"]: row for row in json.loads(govscan(room, "config", "show", "--format", "json").stdout)}
    finally:
        settings.unlink()
    assert shown["scan.probe_timeout"] == {"key": "scan.probe_timeout", "value": 7.5, "source": str(settings)}


def test_only_our_own_folders_are_installed(room):
    shown = run([room["bin"] / "python", "-m", "pip", "show", "-f", "govscan"], room["dir"], room["env"]).stdout
    files = [line.strip() for line in shown.split("Files:", 1)[1].splitlines() if line.strip()]
    tops = {Path(f).parts[0] for f in files}
    assert tops - {"govscan-" + room["wheel"].name.split("-")[1] + ".dist-info", ".."} == OUR_FOLDERS
    assert not [f for f in files if f.startswith("..") and not f.endswith("/bin/govscan")]
    for needed in ("govscan/config/settings.toml", "govscan/config/policy/tls-ncsc-2.1.toml",
                   "scanner/probes/browser_js/axe.min.js", "scanner/probes/browser_js/axe.min.js.LICENSE",
                   "storage/migrations/env.py", "storage/migrations/versions/0001_initial_schema.py"):
        assert needed in files


def test_the_lab_is_not_part_of_the_package(room):
    done = subprocess.run([room["bin"] / "govscan", "lab", "status"], cwd=room["dir"], env=room["env"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "checkout" in done.stderr


def verdicts(output: str) -> dict[str, str]:
    return {f["check"]: f["status"] for f in json.loads(output)["findings"]}


def test_a_lab_site_gets_the_same_verdicts_as_from_the_checkout(room, tmp_path):
    """Every family, the browser's included: the installed package and the checkout judge alike."""
    installed = verdicts(govscan(room, "--lab", "check", SITE, "--format", "json").stdout)
    checkout = verdicts(run([Path(sys.executable).parent / "govscan", "--lab", "--db", tmp_path / "checkout.db",
                             "check", SITE, "--format", "json"], ROOT, dict(os.environ)).stdout)
    assert installed == checkout
    assert {"privacy.tracking_cookies", "a11y.wcag", "web.tls.version", "dns.dnssec"} <= set(installed)
    assert "error" not in {installed[c] for c in ("privacy.tracking_cookies", "a11y.wcag")}


def test_a_scan_with_the_browser_families_runs_from_the_installed_package(room):
    sites = room["dir"] / "sites.txt"
    sites.write_text(f"https://{SITE}/\n")
    govscan(room, "--lab", "scan", "--sites", sites, "--checks", "privacy.*,a11y.*", "--out", room["dir"] / "report")
    report = (room["dir"] / "report").glob("*.csv")
    rows = next(report).read_text(encoding="utf-8")
    assert "privacy.tracking_cookies" in rows and "a11y.statement" in rows
