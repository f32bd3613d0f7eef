"""`govscan lab ...` without a running lab: a scenario with a typo starts nothing; generate writes a file."""
from __future__ import annotations

from scanner.cli import main
from lab.scenario import load


def test_a_scenario_with_a_typo_is_refused_and_nothing_starts(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("GOVSCAN_LAB_DIR", str(tmp_path / "lab"))
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: bad\nsites:\n  - host: www.a.nl\n    hsts: one_year\n    tsl: modern\n")
    assert main(["lab", "up", "--scenario", str(bad)]) == 2
    err = capsys.readouterr().err
    assert f"{bad}:5: sites[0].tsl: unknown key (did you mean 'tls'?)" in err
    assert "nothing was started" in err
    assert not (tmp_path / "lab").exists()


def test_status_of_a_lab_that_is_not_running(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("GOVSCAN_LAB_DIR", str(tmp_path / "lab"))
    assert main(["lab", "status"]) == 1
    assert "not running" in capsys.readouterr().out


def test_generate_writes_a_valid_scenario(tmp_path, capsys):
    out = tmp_path / "gen.yaml"
    assert main(["lab", "generate", "25", "--out", str(out), "--seed", "7"]) == 0
    scenario = load(out)
    assert len(scenario.sites) == 25 and scenario.name == "generated-25"
