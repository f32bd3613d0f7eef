"""Where settings and data come from (govscan/paths.py, scanner/config.py): the package's defaults, then the
user's file (--config, $GOVSCAN_CONFIG, XDG), then the command line; data in the user's data directory, never
in the installed package; `govscan config show` names the source of every value."""
from __future__ import annotations

import json

import pytest

from checks.cookie_policy import TRACKERS, cookie_classification, tracker_lists
from govscan import paths
from scanner import config
from scanner.cli import main


@pytest.fixture
def home(tmp_path, monkeypatch):
    """A user with empty XDG directories of their own."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.delenv("GOVSCAN_CONFIG", raising=False)
    monkeypatch.delenv("GOVSCAN_DATA_DIR", raising=False)
    return tmp_path


def xdg_settings(home, text: str):
    path = home / "config" / "govscan" / "settings.toml"
    path.parent.mkdir(parents=True)
    path.write_text(text)
    return path


def shown(capsys, *argv) -> dict[str, dict]:
    capsys.readouterr()
    assert main([*argv, "config", "show", "--format", "json"]) == 0
    return {row["key"]: row for row in json.loads(capsys.readouterr().out)}


def test_defaults_come_from_the_package(home, capsys):
    rows = shown(capsys)
    assert rows["scan.probe_timeout"] == {"key": "scan.probe_timeout", "value": 20.0, "source": "default"}
    assert rows["paths.package_data"]["value"] == str(paths.package_data())
    assert rows["paths.database"]["value"] == f"sqlite:///{home / 'data' / 'govscan' / 'govscan.db'}"


def test_the_xdg_settings_file_is_read_when_it_exists(home, capsys):
    path = xdg_settings(home, "[scan]\nprobe_timeout = 9.0\n")
    rows = shown(capsys)
    assert rows["scan.probe_timeout"] == {"key": "scan.probe_timeout", "value": 9.0, "source": str(path)}
    assert rows["scan.connect_timeout"]["source"] == "default"


def test_govscan_config_wins_over_xdg_and_config_wins_over_both(home, monkeypatch, capsys):
    xdg_settings(home, "[scan]\nprobe_timeout = 9.0\n")
    env_file = home / "env.toml"
    env_file.write_text("[scan]\nprobe_timeout = 8.0\n")
    monkeypatch.setenv("GOVSCAN_CONFIG", str(env_file))
    assert shown(capsys)["scan.probe_timeout"]["value"] == 8.0
    given = home / "given.toml"
    given.write_text("[scan]\nprobe_timeout = 7.0\n")
    assert shown(capsys, "--config", str(given))["scan.probe_timeout"] == {
        "key": "scan.probe_timeout", "value": 7.0, "source": str(given)}


def test_command_line_options_are_named_as_such(home, capsys):
    rows = shown(capsys, "--db", "postgresql://scanner@db.example/govscan")
    assert rows["storage.database_url"]["source"] == "command line"
    assert rows["paths.database"]["value"] == "postgresql://scanner@db.example/govscan"


def test_govscan_data_dir_moves_the_database(home, monkeypatch):
    monkeypatch.setenv("GOVSCAN_DATA_DIR", str(home / "elsewhere"))
    assert config.load().storage.url == f"sqlite:///{home / 'elsewhere' / 'govscan.db'}"


def test_a_broken_user_file_is_a_usage_error_naming_it(home, capsys):
    path = xdg_settings(home, "[scan\n")
    assert main(["config", "show"]) == 2
    assert str(path) in capsys.readouterr().err


def test_an_unknown_setting_is_a_usage_error(home, capsys):
    xdg_settings(home, "[scan]\nprobe_timeuot = 9\n")
    assert main(["config", "show"]) == 2
    assert "probe_timeuot" in capsys.readouterr().err


def test_import_writes_into_the_data_directory_and_is_then_in_force(home, capsys):
    shipped = paths.package_data(TRACKERS)
    before = shipped.read_bytes()
    (home / "list.txt").write_text("||stats.example.com^\n")
    try:
        assert tracker_lists().tracker_for("stats.example.com") is None
        assert main(["import", "trackers", str(home / "list.txt")]) == 0
        imported = home / "data" / "govscan" / TRACKERS
        assert "stats.example.com" in imported.read_text()
        assert shipped.read_bytes() == before
        assert tracker_lists().tracker_for("stats.example.com") == {"tracker": "stats.example.com",
                                                                    "list": "filter-list"}
        key = f"paths.{TRACKERS}"
        assert shown(capsys)[key] == {"key": key, "value": str(imported), "source": "imported"}
    finally:
        tracker_lists.cache_clear()
        cookie_classification.cache_clear()


def test_version(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["--version"])
    assert exit_.value.code == 0
    assert capsys.readouterr().out.split()[0] == "govscan"


@pytest.mark.parametrize("text, message", [
    ('[scan]\nthreads = "eight"\n', 'scan.threads: expected an integer, got \'eight\''),
    ("[scan]\nprobe_timeout = true\n", "scan.probe_timeout: expected a number, got True"),
    ("scan = 5\n", "[scan] must be a table, got 5"),
    ('[dns]\nresolvers = ["192.0.2.1", 5]\n', "dns.resolvers: expected a string or a list of strings"),
])
def test_a_setting_of_the_wrong_type_is_a_clear_error_naming_file_and_key(home, capsys, text, message):
    path = xdg_settings(home, text)
    assert main(["config", "show"]) == 2
    err = capsys.readouterr().err
    assert str(path) in err and message in err, err


def test_an_integer_is_a_fine_number(home, capsys):
    xdg_settings(home, "[scan]\nprobe_timeout = 9\n")
    assert shown(capsys)["scan.probe_timeout"]["value"] == 9


def test_config_show_never_prints_the_database_password(home, capsys):
    rows = shown(capsys, "--db", "postgresql://scanner:S3cret@db.example/govscan")
    assert rows["storage.database_url"]["value"] == "postgresql://scanner:***@db.example/govscan"
    assert "S3cret" not in json.dumps(rows)
