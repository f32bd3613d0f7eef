"""domain.rio: the RIO export is read in its accepted forms, a listed domain covers the names below it, an
unlisted site warns, no export makes the check not applicable, and an unreadable export stops the run."""
from __future__ import annotations

import asyncio

import pytest

from checks.registry import select
from scanner import config
from scanner.config import ConfigError
from govscan.model import Site, Status
from scanner.probes.register import load_rio_export, own_names
from scanner.runner import Runner

CSV_EXPORT = "domein,organisatie\nnoordstad.nl,Gemeente Noordstad\nregisters.gov.nl,Dienst Registers\n"


def scan(host: str, rio_export: str = "") -> dict:
    settings = config.load(overrides={"register": {"rio_export": rio_export}})
    runner = Runner(settings, select("domain.rio"), run_facts={"ipv6": True})
    [result] = asyncio.run(runner.run([Site(f"https://{host}/", host)]))
    [finding] = result.findings
    return finding


@pytest.fixture
def export(tmp_path):
    path = tmp_path / "rio.csv"
    path.write_text(CSV_EXPORT, encoding="utf-8")
    return str(path)


def test_listed_domain_covers_the_host_below_it(export):
    finding = scan("www.noordstad.nl", export)
    assert finding.status == Status.PASS
    assert finding.details["listed"] == "noordstad.nl"


def test_gov_nl_subdomain_is_matched_on_its_own_name(export):
    assert scan("www.registers.gov.nl", export).status == Status.PASS


def test_unlisted_domain_warns_and_says_what_was_searched(export):
    finding = scan("www.zuiderveen.nl", export)
    assert finding.status == Status.WARN
    assert finding.details["searched"] == ["www.zuiderveen.nl", "zuiderveen.nl"]
    assert "zuiderveen.nl" in finding.summary.en


def test_a_parent_that_is_only_a_suffix_does_not_count(export):
    """gov.nl itself is not in the export: a gov.nl host of an unregistered organisation still warns."""
    assert scan("www.andere.gov.nl", export).status == Status.WARN


def test_a_gov_nl_row_does_not_cover_the_organisations_below_it(tmp_path):
    """gov.nl is a public suffix (the list's private section): x.gov.nl is its own registrable domain."""
    path = tmp_path / "rio.csv"
    path.write_text("domein\ngov.nl\n", encoding="utf-8")
    finding = scan("www.andere.gov.nl", str(path))
    assert finding.status == Status.WARN and finding.details["searched"] == ["www.andere.gov.nl", "andere.gov.nl"]


def test_without_an_export_the_check_does_not_apply():
    assert scan("www.noordstad.nl").status == Status.NOT_APPLICABLE


def test_a_missing_export_stops_the_run_with_a_clear_error(tmp_path):
    with pytest.raises(ConfigError, match="rio_export: cannot read"):
        scan("www.noordstad.nl", str(tmp_path / "absent.csv"))


def test_plain_list_with_comments(tmp_path):
    path = tmp_path / "rio.txt"
    path.write_text("# RIO export\nNoordstad.NL.\n\nzuiderveen.nl\n", encoding="utf-8")
    assert load_rio_export(path) == {"noordstad.nl", "zuiderveen.nl"}


def test_csv_with_another_column_name_is_refused(tmp_path):
    path = tmp_path / "rio.csv"
    path.write_text("naam,organisatie\nnoordstad.nl,x\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="without a column named domein"):
        load_rio_export(path)


def test_own_names_stop_above_the_top_level_domain():
    assert own_names("www.noordstad.nl.") == ["www.noordstad.nl", "noordstad.nl"]


def test_an_imported_export_in_the_data_directory_is_used_without_a_setting(tmp_path, monkeypatch):
    monkeypatch.setenv("GOVSCAN_DATA_DIR", str(tmp_path))
    assert scan("www.noordstad.nl").status == Status.NOT_APPLICABLE
    (tmp_path / "rio-export.csv").write_text(CSV_EXPORT, encoding="utf-8")
    finding = scan("www.noordstad.nl")
    assert finding.status == Status.PASS and finding.details["export"] == str(tmp_path / "rio-export.csv")


def test_import_rio_keeps_a_copy_that_domain_rio_then_uses(tmp_path, monkeypatch, capsys):
    from scanner.cli import main

    monkeypatch.setenv("GOVSCAN_DATA_DIR", str(tmp_path / "data"))
    source = tmp_path / "export.csv"
    source.write_text(CSV_EXPORT, encoding="utf-8")
    assert main(["--lang", "en", "import", "rio", str(source)]) == 0
    assert "2 domains" in capsys.readouterr().out
    assert scan("www.noordstad.nl").status == Status.PASS


def test_import_rio_refuses_a_file_without_a_domain_column(tmp_path, monkeypatch, capsys):
    from scanner.cli import main

    monkeypatch.setenv("GOVSCAN_DATA_DIR", str(tmp_path / "data"))
    source = tmp_path / "export.csv"
    source.write_text("naam,organisatie\nnoordstad,Gemeente Noordstad\n", encoding="utf-8")
    assert main(["import", "rio", str(source)]) == 2
    assert "domein" in capsys.readouterr().err
    assert not (tmp_path / "data" / "rio-export.csv").exists()
