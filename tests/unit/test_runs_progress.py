"""`govscan runs` on a distributed run under way: sites done, failing, errors, the rate, and the workers at
work on it (their live claims: a worker that died drops out within one lease) and answering the broker."""
from __future__ import annotations

from datetime import timedelta

from rich.console import Console

from govscan.model import Status
from reports import console
from scanner import cli
from storage import work
from tests.unit.test_scheduler import clock, sites, store  # noqa: F401 (fixtures)
from tests.unit.test_storage import db_url, pg_database, result  # noqa: F401 (fixtures)

LEASE = timedelta(minutes=2)


def listing(store, answering=None) -> str:
    out = Console(record=True, width=220)
    running = [run.id for run in store.runs()]
    console.runs(out, store.runs(), "en", store.now(), work.workers_at_work(store, running), answering)
    return out.export_text()


def row_of(text: str, run_id: int) -> list[str]:
    line = next(line for line in text.splitlines() if line.strip("│ ").startswith(f"{run_id} "))
    return [cell.strip() for cell in line.strip("│").split("│")]


def test_a_distributed_run_shows_its_progress_rate_and_the_workers_at_work(store, clock):
    scanned = sites(4)
    run = store.start_run("nightly", scanned)
    work.split(store, run, ["network"])
    items = store.work_items(run)
    for item, worker in zip(items, ("w1", "w2", "w1")):
        assert work.claim_item(store, run, item.id, LEASE, 3, worker)
    clock.advance(minutes=1)
    work.record_part(store, run, items[0].id, result(scanned[0], {"web.https.hsts": Status.FAIL}))
    clock.advance(minutes=1)

    text = listing(store, answering=["govscan-network-11@a", "govscan-network-12@b"])
    cells = row_of(text, run)
    assert cells[5:10] == ["1/4", "1", "0", "0.5", "2"]  # sites, failing, errors, sites/min, workers at work
    assert "Workers answering the broker: 2 (govscan-network-11@a, govscan-network-12@b)" in text

    clock.advance(seconds=LEASE.total_seconds())  # no worker renewed its claims: they are gone
    assert row_of(listing(store), run)[9] == ""


def test_the_runs_command_lists_the_rate_of_a_finished_run(tmp_path, capsys):
    db = str(tmp_path / "govscan.db")
    from storage.store import Store

    opened = Store(db)
    run = opened.start_run("batch", sites(2))
    for site in sites(2):
        opened.record_site(run, result(site, {"web.https.hsts": Status.PASS}))
    opened.finish_run(run)
    opened.close()
    assert cli.main(["--lang", "en", "--db", db, "runs"]) == 0
    out = capsys.readouterr().out
    assert "sites/min" in out and "2/2" in out
    assert "answering the broker" not in out  # no distributed run under way: the broker is not asked
