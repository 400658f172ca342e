"""When things go wrong: a `tally run` killed with SIGKILL part-way, in every phase, then run
again on the same warehouse, ends exactly where a clean run ends; so does `tally finalize`
killed at any of its steps, then run again; a second run on a warehouse in use is turned away
before it touches anything (one writer per DuckDB file); a failing Great Expectations suite
blocks publishing and leaves the previous publication whole.

The kills come from the crash points of orchestration/lib/crash.py (`TALLY_CRASH_AT`): the
run SIGKILLs its own process group (itself, dbt running on one of its threads) at the named point. Which point
of each phase is drawn per test run from a seed, printed and replayable:
`TALLY_CRASH_SEED=<seed> pytest tests/e2e/test_recovery.py`."""
from __future__ import annotations

import hashlib
import json
import os
import random
import shutil
import signal
import subprocess
import time
from decimal import Decimal as D
from pathlib import Path

import duckdb
import pytest

from expectations.suites import SUITES
from orchestration.finalize import FROZEN
from orchestration.lib.crash import CRASH_ENV
from orchestration.paths import DBT_PROJECT_DIR
from orchestration.publish import PUBLISHED
from tests.helpers import REPO, TALLY, copy_landing, rows, table_dump, tally

SEED_ENV = "TALLY_CRASH_SEED"
MONTH_FILES = sorted(f"{table}.{fmt}" for table in ("invoices", "invoice_lines", "fee_tiers")
                     for fmt in ("parquet", "csv"))


def run_args(catalog: Path, landing: Path, warehouse: Path, publish: Path) -> list[str]:
    return ["run", "--catalog", str(catalog), "--landing", str(landing), "--warehouse", str(warehouse),
            "--period", "2026-10", "--publish", str(publish)]


@pytest.fixture
def clean(small_billed):
    """The reference: one uninterrupted run (test_end_to_end's `billed`, billed once per session)."""
    return small_billed


@pytest.fixture
def crash_seed() -> int:
    seed = int(os.environ.get(SEED_ENV) or random.SystemRandom().randrange(1 << 32))
    print(f"crash points drawn with {SEED_ENV}={seed}")
    return seed


def live_members(pgid: int) -> list[int]:
    """Processes of a process group that are still running (zombies awaiting their reaper excluded)."""
    pids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            pids.append(int(stat.parent.name))
    return pids


def run_killed_at(args: list[str], point: str, out: Path, note: str = "") -> str:
    """`tally <args>` in its own session with TALLY_CRASH_AT=<point>; it must die of SIGKILL there,
    and with it every process of its group (dbt). Returns what it printed."""
    env = {**os.environ, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false", "DAGSTER_DISABLE_TELEMETRY": "1",
           CRASH_ENV: point}
    env.pop("DAGSTER_HOME", None)
    with out.open("w") as fh:
        proc = subprocess.Popen([TALLY, *args], stdout=fh, stderr=subprocess.STDOUT, env=env, cwd=REPO,
                                start_new_session=True)
    try:
        proc.wait(timeout=600)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=60)
    text = out.read_text(errors="replace")
    assert proc.returncode == -signal.SIGKILL, f"{note}: not killed at {point} (exit {proc.returncode}):\n{text}"
    assert f"{CRASH_ENV}={point}: SIGKILL at " in text, f"{note}:\n{text}"
    deadline = time.monotonic() + 30
    while live_members(proc.pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert live_members(proc.pid) == [], f"{note}: processes of the killed run are still alive"
    return text


def crashed_state(warehouse: Path, scratch: Path, schemas=("billing",)) -> dict:
    """The tables a killed process left, read from a copy (with DuckDB's write-ahead log), so that
    the next run finds the warehouse exactly as the kill left it."""
    scratch.mkdir()
    copy = scratch / warehouse.name
    for suffix in ("", ".wal"):
        if warehouse.with_name(warehouse.name + suffix).exists():
            shutil.copy(warehouse.with_name(warehouse.name + suffix), copy.with_name(copy.name + suffix))
    duckdb.connect(str(copy)).close()  # replays the log
    state = {schema: table_dump(copy, schema) for schema in schemas}
    shutil.rmtree(scratch)
    return state


def parquet_rows(path: Path) -> list[tuple]:
    with duckdb.connect() as con:
        return con.execute("select * from read_parquet(?) order by all", [str(path)]).fetchall()


def month_files(folder: Path) -> dict[str, object]:
    """A published month: CSV bytes, Parquet rows (the same rows, whatever the writer's layout)."""
    return {p.name: p.read_bytes() if p.suffix == ".csv" else parquet_rows(p) for p in sorted(folder.iterdir())}


def pages(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def published(publish: Path, month: str = "2026-10") -> dict:
    """What a reader of the publish folder sees: its entries (no leftover staging folder), the
    month's files and the pages. Data Docs are rebuilt by every run with run times: only listed."""
    return {"entries": sorted(p.name for p in publish.iterdir()) if publish.exists() else [],
            "month": month_files(publish / month) if (publish / month).exists() else None,
            "pages": pages(publish / "pages") if (publish / "pages").exists() else None}


def dbt_events_at_least() -> int:
    """A lower bound of the events dagster-dbt streams in a build (one per model, seed and data
    test; more when a test checks several assets): each is a `dbt` crash point."""
    manifest = json.loads((DBT_PROJECT_DIR / "target" / "manifest.json").read_text())
    return sum(1 for node in manifest["nodes"].values()
               if node["resource_type"] in ("seed", "test")
               or (node["resource_type"] == "model" and node["config"]["materialized"] != "ephemeral"))


def run_crash_points(rng: random.Random, landing_files: int) -> list[tuple[str, str]]:
    """One crash point per phase of a run, drawn: (phase, TALLY_CRASH_AT). The points of each
    phase, in orchestration/lib/crash.py's terms: landing: each file written then committed;
    dbt: each node finished; gx: rows read, each suite, Data Docs built, then swapped in (the
    run's first folder swap); publish: each billing table merged, the commit, the month's files
    written then swapped in, the swaps of the month (2nd) and of the pages (3rd)."""
    gx = [f"gx:{n}" for n in range(1, len(SUITES) + 3)] + ["swap:1"]
    publish = ([f"publish:{n}" for n in range(1, len(PUBLISHED) + 2)] + ["files:1", "files:2", "swap:2", "swap:3"])
    return [("landing", f"landing:{rng.randint(1, 2 * landing_files)}"),
            ("dbt", f"dbt:{rng.randint(1, dbt_events_at_least())}"),
            ("gx", rng.choice(gx)),
            ("publish", rng.choice(publish))]


def test_killed_in_every_phase_then_rerun_equals_clean_run(clean, small_catalog, tmp_path, crash_seed):
    """From an empty warehouse, `tally run` is killed in landing, then run again and killed in the
    dbt build, again and killed in the Great Expectations gate, again and killed while
    publishing; each of these runs first gets past the point where the previous one died. After
    every kill, what a reader sees is whole: nothing published yet, or exactly the clean run's
    tables and files. The last run, uninterrupted, ends exactly where the clean run ended: same
    raw events (no file landed twice), same `billing` tables, same files."""
    base = tmp_path / "killed"
    base.mkdir()
    warehouse, publish = base / "w.duckdb", base / "published"
    args = run_args(small_catalog, clean["landing"], warehouse, publish)
    files = sorted(p.name for p in clean["landing"].iterdir())
    want_tables = table_dump(clean["warehouse"])
    want_files = published(clean["published"])
    points = run_crash_points(random.Random(crash_seed), len(files))
    note = f"{SEED_ENV}={crash_seed}, points {[p for _, p in points]}"
    print(note)
    for i, (phase, point) in enumerate(points):
        text = run_killed_at(args, point, base / f"killed_{phase}.out", note)
        assert "Invoices" not in text, note  # it died before its summary
        state = crashed_state(warehouse, base / f"after_{phase}", ("billing", "raw"))
        # every file the killed runs landed is there whole (rows and manifest row in one
        # transaction): a landing kill at point n leaves the first n // 2 files
        landed = sorted(r[0] for r in state["raw"].get("landing_files", []))
        assert landed == (files[:int(point.split(":")[1]) // 2] if phase == "landing" else files), note
        for name in landed:
            assert [r for r in state["raw"]["events"] if r[1] == name] == \
                [r for r in table_dump(clean["warehouse"], "raw")["events"] if r[1] == name], (note, name)
        # the publication a reader sees: nothing yet, or the clean run's, whole
        assert state["billing"] in ({}, want_tables), note
        seen = published(publish)
        assert seen["month"] in (None, want_files["month"]), note
        assert seen["pages"] in (None, want_files["pages"]), note
        if phase in ("landing", "dbt"):
            assert seen["entries"] == [], note  # the gate's Data Docs are the first files written

    again = tally(*args)  # the kernel dropped the lock with the process; DuckDB replays its WAL
    # the killed runs had landed the files: they are not loaded twice
    assert "events sent: 10034 = billed 10022 + quarantined 11 + duplicates ignored 1" in again.stdout, note
    assert rows(warehouse, "select count(*) from raw.landing_files") == [(3,)], note
    assert table_dump(warehouse, "raw") == table_dump(clean["warehouse"], "raw"), note
    assert table_dump(warehouse) == want_tables, note
    # the published files: same names (no half-written folders left), same CSV bytes, same
    # Parquet rows, same pages
    assert published(publish) == want_files, note
    assert sorted(want_files["month"]) == MONTH_FILES and all(want_files["month"].values())


# `tally finalize`: each step of its transaction (invoices marked, each frozen table, wallet
# allocations, adjustments and the month recorded), the commit, then the month's files (written,
# swapped in; the swaps of the month and of the pages). A finalize takes a second: every point,
# every test run.
FINALIZE_POINTS = ([f"finalize:{n}" for n in range(1, len(FROZEN) + 5)]
                   + ["files:1", "files:2", "swap:1", "swap:2"])


def finalize_args(warehouse: Path, publish: Path) -> list[str]:
    return ["finalize", "--period", "2026-10", "--warehouse", str(warehouse), "--publish", str(publish)]


def copy_billed(small_billed: dict, base: Path) -> tuple[Path, Path]:
    """October billed and published (small_billed), copied: to finalize."""
    base.mkdir(parents=True, exist_ok=True)
    warehouse, publish = base / "w.duckdb", base / "published"
    shutil.copy(small_billed["warehouse"], warehouse)
    shutil.copytree(small_billed["published"], publish)
    return warehouse, publish


@pytest.fixture(scope="module")
def finalized_clean(tmp_path_factory, small_billed) -> dict:
    """The reference: October of small_billed finalized by one uninterrupted `tally finalize`."""
    warehouse, publish = copy_billed(small_billed, tmp_path_factory.mktemp("finalized_clean"))
    tally(*finalize_args(warehouse, publish))
    return {"tables": {s: table_dump(warehouse, s) for s in ("billing", "finalized")},
            "published": published(publish)}


@pytest.mark.parametrize("point", FINALIZE_POINTS)
def test_finalize_killed_then_rerun_equals_clean_finalize(point, finalized_clean, small_billed, tmp_path):
    warehouse, publish = copy_billed(small_billed, tmp_path)
    before = {"tables": {"billing": table_dump(warehouse), "finalized": {}}, "published": published(publish)}
    want = finalized_clean
    assert want["published"]["month"] != before["published"]["month"]  # status finalized in the files
    run_killed_at(finalize_args(warehouse, publish), point, tmp_path / "killed.out", point)
    # the month is still open and whole, or finalized and whole (one transaction); the month's
    # folder is the old one, the new one, or (killed between the two renames) not there
    assert crashed_state(warehouse, tmp_path / "after", ("billing", "finalized")) in \
        (before["tables"], want["tables"])
    seen = published(publish)
    assert seen["month"] in (before["published"]["month"], want["published"]["month"], None)
    assert seen["pages"] in (before["published"]["pages"], want["published"]["pages"], None)

    tally(*finalize_args(warehouse, publish))
    assert {s: table_dump(warehouse, s) for s in ("billing", "finalized")} == want["tables"]
    assert published(publish) == want["published"]


def _fingerprint(warehouse: Path) -> tuple[str, int]:
    return hashlib.sha256(warehouse.read_bytes()).hexdigest(), warehouse.stat().st_mtime_ns


def _billed_warehouse(path: Path) -> Path:
    with duckdb.connect(str(path)) as con:
        con.execute("create schema billing")
        con.execute("create table billing.invoices as select 'inv_1' as invoice_id, 62.77 as total_amount")
    return path


def _run_while_locked(tmp_path: Path, small_catalog: Path, monkeypatch):
    """`tally run` on a warehouse whose lock is held here; returns (process, warehouse)."""
    from orchestration.lib.warehouse import warehouse_lock

    monkeypatch.setenv("COLUMNS", "1000")  # one line per message, whatever the path length
    warehouse = _billed_warehouse(tmp_path / "w.duckdb")
    landing = copy_landing("small", tmp_path / "landing")
    with warehouse_lock(warehouse):  # as a run in progress holds it
        before = _fingerprint(warehouse)
        (tmp_path / "w.run.log").write_text("the running run's log\n")
        proc = tally(*run_args(small_catalog, landing, warehouse, tmp_path / "published"), check=False)
        assert _fingerprint(warehouse) == before
    return proc, warehouse


def test_second_run_on_a_warehouse_in_use_is_refused_and_touches_nothing(tmp_path, small_catalog,
                                                                          monkeypatch):
    proc, warehouse = _run_while_locked(tmp_path, small_catalog, monkeypatch)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert f"another tally run is using {warehouse.resolve()}" in proc.stdout
    assert not (tmp_path / "published").exists()
    assert not warehouse.with_name(warehouse.name + ".wal").exists()
    assert rows(warehouse, "select * from billing.invoices") == [("inv_1", D("62.77"))]


def test_refused_run_leaves_the_running_runs_log_alone(tmp_path, small_catalog, monkeypatch):
    proc, _ = _run_while_locked(tmp_path, small_catalog, monkeypatch)
    assert proc.returncode == 1
    assert (tmp_path / "w.run.log").read_text() == "the running run's log\n"


def test_failing_expectation_blocks_publishing_and_keeps_the_previous_publication(clean, small_catalog, tmp_path):
    """A producer sends a negative token count: sub_a's October token meter becomes
    1,000 + 250 − 5,000 = −3,750 units. The usage suite's `units >= 0` expectation fails, so the
    blocking check stops the run before publishing: the message names the suite and the
    expectation, and the previous publication (tables and files) is still there, whole."""
    warehouse, publish = tmp_path / "w.duckdb", tmp_path / "published"
    warehouse.write_bytes(clean["warehouse"].read_bytes())
    shutil.copytree(clean["published"], publish)
    landing = shutil.copytree(clean["landing"], tmp_path / "landing")
    (landing / "d_refund.jsonl").write_text(
        '{"transaction_id": "refund_1", "external_subscription_id": "sub_a", "code": "tokens", '
        '"timestamp": "2026-10-20T10:00:00Z", "properties": {"tokens": -5000, "model": "small"}}\n')
    before_tables = table_dump(warehouse)
    before_files = {p.relative_to(publish): p.read_bytes() for p in sorted((publish / "2026-10").iterdir())}
    before_pages = {p.relative_to(publish): p.read_bytes() for p in sorted((publish / "pages").rglob("*.html"))}

    proc = tally(*run_args(small_catalog, landing, warehouse, publish), check=False)
    out = " ".join(proc.stdout.split())
    assert proc.returncode == 1, out
    assert "publishing blocked by Great Expectations" in out
    assert ("usage_is_consistent on intermediate/int_usage_by_period: suite usage failed: "
            "expect_column_values_to_be_between(units, min_value=0.0): 1 unexpected row(s), e.g. [-3750.0]") in out
    # the marts hold the blocked figures; nothing of them reached billing or the files
    assert rows(warehouse, "select units from intermediate.int_usage_by_period where charge_id = 'c_tokens' "
                           "and filter_index = 0") == [(D(-3750),)]
    assert table_dump(warehouse) == before_tables
    assert {p.relative_to(publish): p.read_bytes() for p in sorted((publish / "2026-10").iterdir())} == before_files
    assert {p.relative_to(publish): p.read_bytes()
            for p in sorted((publish / "pages").rglob("*.html"))} == before_pages
    # Data Docs show the failure
    docs = publish / "data_docs"
    assert (docs / "index.html").exists()
    usage_page = next((docs / "validations" / "usage").rglob("*.html")).read_text()
    assert "expect_column_values_to_be_between" in usage_page or "units" in usage_page
