"""When things go wrong: a `tally run` killed with SIGKILL part-way through its dbt build, then
run again on the same warehouse, ends exactly where a clean run ends; a second run on a
warehouse in use is turned away before it touches anything (one writer per DuckDB file); a
failing Great Expectations suite blocks publishing and leaves the previous publication whole."""
from __future__ import annotations

import hashlib
import os
import re
import shutil
import signal
import subprocess
import time
from decimal import Decimal as D
from pathlib import Path

import duckdb
import pytest
from conftest import REPO, TALLY, copy_landing, rows, table_dump, tally, write_api_calls_parquet

API_CALLS = 10_005
# dbt's progress lines in the run log, e.g. "17 of 128 OK created sql table model intermediate.x"
DBT_TABLE_DONE = re.compile(r"^\d+ of \d+ OK created sql table model ", re.MULTILINE)
KILL_AFTER_TABLES = 10  # of the 30-odd tables of a build: well inside it, with work left to do
MONTH_FILES = sorted(f"{table}.{fmt}" for table in ("invoices", "invoice_lines", "fee_tiers")
                     for fmt in ("parquet", "csv"))


def run_args(catalog: Path, landing: Path, warehouse: Path, publish: Path) -> list[str]:
    return ["run", "--catalog", str(catalog), "--landing", str(landing), "--warehouse", str(warehouse),
            "--period", "2026-10", "--publish", str(publish)]


@pytest.fixture(scope="module")
def clean(tmp_path_factory, small_catalog):
    """The reference: one uninterrupted run (the same inputs as test_end_to_end's `billed`)."""
    base = tmp_path_factory.mktemp("recovery")
    landing = copy_landing("small", base / "landing")
    write_api_calls_parquet(landing / "c_calls.parquet", API_CALLS)
    warehouse = base / "clean" / "w.duckdb"
    tally(*run_args(small_catalog, landing, warehouse, base / "clean" / "published"))
    return {"base": base, "landing": landing, "warehouse": warehouse,
            "published": base / "clean" / "published"}


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


def kill_during_dbt_build(args: list[str], run_log: Path, out: Path) -> subprocess.Popen:
    """Start `tally run` in its own session, wait for dbt to create some tables, SIGKILL the group."""
    env = {**os.environ, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false", "DAGSTER_DISABLE_TELEMETRY": "1"}
    env.pop("DAGSTER_HOME", None)
    with out.open("w") as fh:
        proc = subprocess.Popen([TALLY, *args], stdout=fh, stderr=subprocess.STDOUT, env=env, cwd=REPO,
                                start_new_session=True)
    try:
        deadline = time.monotonic() + 600
        done = 0
        while proc.poll() is None and time.monotonic() < deadline:
            text = run_log.read_text(errors="replace") if run_log.exists() else ""
            done = len(DBT_TABLE_DONE.findall(text))
            if done >= KILL_AFTER_TABLES:
                break
            time.sleep(0.1)
        assert proc.poll() is None, \
            f"tally run ended (exit {proc.returncode}) before the kill:\n{out.read_text()}"
        assert done >= KILL_AFTER_TABLES, f"dbt did not get going in time:\n{run_log.read_text()[-3000:]}"
        os.killpg(proc.pid, signal.SIGKILL)  # tally (the group leader) and its dbt child
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=60)
    deadline = time.monotonic() + 30
    while live_members(proc.pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert live_members(proc.pid) == [], "processes of the killed run are still alive"
    return proc


def test_killed_mid_dbt_build_then_rerun_equals_clean_run(clean, small_catalog):
    base = clean["base"] / "killed"
    base.mkdir()
    warehouse, publish = base / "w.duckdb", base / "published"
    args = run_args(small_catalog, clean["landing"], warehouse, publish)
    run_log = warehouse.with_suffix(".run.log")
    proc = kill_during_dbt_build(args, run_log, base / "killed.out")
    assert proc.returncode == -signal.SIGKILL
    # it really died mid-way: no dbt summary, no run summary, nothing published, and DuckDB's
    # write-ahead log still holds the uncheckpointed writes of dbt's open connection
    assert "Done. PASS=" not in run_log.read_text(errors="replace")
    assert "Invoices" not in (base / "killed.out").read_text()
    assert not (publish / "2026-10").exists()
    assert warehouse.with_name(warehouse.name + ".wal").exists()

    again = tally(*args)  # the kernel dropped the lock with the process; DuckDB replays its WAL
    # the killed run had landed the files: they are not loaded twice
    assert "events sent: 10034 = billed 10022 + quarantined 11 + duplicates ignored 1" in again.stdout
    assert rows(warehouse, "select count(*) from raw.landing_files") == [(3,)]
    assert table_dump(warehouse, "raw") == table_dump(clean["warehouse"], "raw")
    assert table_dump(warehouse) == table_dump(clean["warehouse"])

    # the published files: same names, same CSV bytes, same Parquet rows; no half-written folders
    assert sorted(p.name for p in publish.iterdir()) == sorted(p.name for p in clean["published"].iterdir())
    got, want = publish / "2026-10", clean["published"] / "2026-10"
    assert sorted(p.name for p in got.iterdir()) == MONTH_FILES
    for name in MONTH_FILES:
        if name.endswith(".csv"):
            assert (got / name).read_bytes() == (want / name).read_bytes(), name
        else:
            with duckdb.connect() as con:
                def parquet(path):
                    return con.execute("select * from read_parquet(?) order by all", [str(path)]).fetchall()
                assert parquet(got / name) == parquet(want / name), name
                assert parquet(got / name), name


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
    assert ("gx_usage on intermediate/int_usage_by_period: suite usage failed: "
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


def test_publish_recovers_from_a_kill_between_folder_swap_and_cleanup(tmp_path):
    """What SIGKILL can leave of a folder swap (orchestration/folders.py): the old folder moved
    aside but not yet deleted, and a half-built temporary folder. The next publish of the same
    folder clears both and swaps in whole (found by review: the leftover `.old` used to make
    every later publish of that month fail with ENOTEMPTY)."""
    from orchestration.folders import staging_folder, swap_in

    out = tmp_path / "published"
    (out / "2026-10").mkdir(parents=True)
    (out / "2026-10" / "invoices.csv").write_text("invoice_id\ninv_current\n")
    (out / ".2026-10.old").mkdir()
    (out / ".2026-10.old" / "invoices.csv").write_text("invoice_id\ninv_older\n")
    (out / ".2026-10-half").mkdir()
    (out / ".2026-10-half" / "invoices.csv").write_text("invoice_id\ninv_hal")

    tmp = staging_folder(out / "2026-10")
    (tmp / "invoices.csv").write_text("invoice_id\ninv_new\n")
    swap_in(tmp, out / "2026-10")

    assert sorted(p.name for p in out.iterdir()) == ["2026-10"]
    assert (out / "2026-10" / "invoices.csv").read_text() == "invoice_id\ninv_new\n"
