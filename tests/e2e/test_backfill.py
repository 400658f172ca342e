"""A 3-month backfill launched through Dagster bills exactly what `tally run --from --to` bills.

The world: the small fixture catalog (sub_a USD from Oct 1; sub_b EUR, in advance, from Oct 16;
sub_c JPY, Sep 1 to Oct 20) and a few events in September, October and November 2026.

Path 1 is `tally run --from 2026-09 --to 2026-11`. Path 2 is what finance does from a terminal,
against its own DAGSTER_HOME: `dagster asset materialize` of the landing group, then of the
partitioned assets (every dbt model and billing/published) with `--partition-range`. That is a
single-run backfill (BackfillPolicy.single_run): one run tagged with the range, one dbt build.
(A daemon-driven asset backfill — GraphQL launchPartitionBackfill, the UI's call — gave the same
tables when tried by hand, but needs the daemon, a code server and a run worker: about 6 minutes
here, too slow for the suite.)
"""
from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
from datetime import date, timedelta
from decimal import Decimal as D
from pathlib import Path

import pytest

from tests.helpers import REPO, rows, tally

MONTHS = ["2026-09-01", "2026-10-01", "2026-11-01"]
PUBLISHED = ("invoices", "invoice_lines", "fee_tiers")
DAGSTER = str(Path(sys.executable).with_name("dagster"))
# One process for the whole run: the default multiprocess executor starts a process per step
# (billing_models, the GX checks, billing/published), and each re-imports the definitions.
IN_PROCESS = json.dumps({"execution": {"config": {"in_process": {}}}})


def event(tid: str, sub: str, code: str, ts: str, **props) -> dict:
    return {"transaction_id": tid, "external_subscription_id": sub, "code": code, "timestamp": ts,
            "properties": props}


EVENTS = [
    # September: only sub_c has started
    event("sep_jp_1", "sub_c", "tokens", "2026-09-10T09:00:00+09:00", tokens=1000),
    event("sep_jp_2", "sub_c", "tokens", "2026-09-20T09:00:00+09:00", tokens=4000),
    # October: all three (sub_c until the 20th, sub_b from the 16th)
    event("oct_jp_1", "sub_c", "tokens", "2026-10-05T09:00:00+09:00", tokens=3000),
    event("oct_calls_1", "sub_a", "api_calls", "2026-10-02T10:00:00Z"),
    event("oct_tok_1", "sub_a", "tokens", "2026-10-03T10:00:00Z", tokens=1000, model="small"),
    event("oct_tok_2", "sub_a", "tokens", "2026-10-04T10:00:00Z", tokens=835, model="large"),
    event("oct_gpu_1", "sub_a", "gpus", "2026-10-11T00:00:00Z", gpus=2),
    event("oct_seat_1", "sub_b", "seats", "2026-10-17T09:00:00+02:00", user_id="u1"),
    event("oct_seat_2", "sub_b", "seats", "2026-10-18T09:00:00+02:00", user_id="u2"),
    event("oct_seat_3", "sub_b", "seats", "2026-10-19T09:00:00+02:00", user_id="u3"),
    event("oct_gb_1", "sub_b", "storage_gb", "2026-10-20T10:00:00Z", gb=120.5),
    # November: sub_a and sub_b (sub_c has ended)
    event("nov_calls_1", "sub_a", "api_calls", "2026-11-02T10:00:00Z"),
    event("nov_tok_1", "sub_a", "tokens", "2026-11-03T10:00:00Z", tokens=2000, model="large"),
    event("nov_gpu_1", "sub_a", "gpus", "2026-11-15T00:00:00Z", gpus=3),
    event("nov_seat_1", "sub_b", "seats", "2026-11-05T09:00:00+01:00", user_id="u4"),
    event("nov_seat_2", "sub_b", "seats", "2026-11-06T09:00:00+01:00", user_id="u2", operation_type="remove"),
    event("nov_gb_1", "sub_b", "storage_gb", "2026-11-20T10:00:00Z", gb=40),
]


def expected_invoice_ids(catalog: Path, months: list[str]) -> set[str]:
    """From the catalog: one invoice per subscription per calendar month it is active in, named
    after the first day it is billed from, plus an opening invoice for a pay-in-advance plan in
    the month the subscription starts."""
    plans = {p["code"]: p for p in csv.DictReader((catalog / "plans.csv").open())}
    ids = set()
    for sub in csv.DictReader((catalog / "subscriptions.csv").open()):
        assert sub["billing_time"] == "calendar"
        start = date.fromisoformat(sub["started_at"])
        end = date.fromisoformat(sub["ending_at"]) if sub["ending_at"] else None
        for m in map(date.fromisoformat, months):
            last = (m + timedelta(days=31)).replace(day=1) - timedelta(days=1)
            if start > last or (end is not None and end < m):
                continue
            ids.add(f"inv_{sub['external_id']}_{max(start, m):%Y%m%d}")
            if plans[sub["plan_code"]]["pay_in_advance"] == "true" and m <= start <= last:
                ids.add(f"inv_{sub['external_id']}_{start:%Y%m%d}_open")
    return ids


@pytest.fixture(scope="module")
def world(tmp_path_factory, small_catalog):
    base = tmp_path_factory.mktemp("backfill")
    catalog = shutil.copytree(small_catalog, base / "catalog")
    landing = base / "landing"
    landing.mkdir()
    (landing / "events.jsonl").write_text("".join(json.dumps(e) + "\n" for e in EVENTS))
    return {"base": base, "catalog": catalog, "landing": landing}


@pytest.fixture(scope="module")
def reference(world):
    """Path 1: `tally run` over the three months."""
    warehouse = world["base"] / "w1" / "w.duckdb"
    tally("run", "--catalog", str(world["catalog"]), "--landing", str(world["landing"]),
          "--warehouse", str(warehouse), "--from", "2026-09", "--to", "2026-11",
          "--publish", str(world["base"] / "p1"))
    return warehouse


def dagster_cli(args: list[str], env: dict, log: Path, program: str = DAGSTER) -> None:
    with log.open("w") as out:
        proc = subprocess.run([program, *args], check=False, stdout=out, stderr=subprocess.STDOUT, env=env,
                              cwd=REPO, timeout=900)
    if proc.returncode != 0:
        raise AssertionError(f"{program} {' '.join(args)} exited {proc.returncode}\n"
                             + log.read_text()[-4000:])


def dagster_world(world, name: str) -> dict:
    """A DAGSTER_HOME, a warehouse and a publish folder of their own, and the env that points at them
    (the Tally env vars are how the definitions find the catalog, landing, warehouse and publish)."""
    base = world["base"] / name
    home = base / "dagster_home"
    home.mkdir(parents=True)
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    warehouse = base / "w.duckdb"
    env = {**os.environ, "DAGSTER_HOME": str(home), "DAGSTER_DISABLE_TELEMETRY": "1",
           "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
           "TALLY_WAREHOUSE": str(warehouse), "TALLY_CATALOG": str(world["catalog"]),
           "TALLY_LANDING": str(world["landing"]), "TALLY_PUBLISH": str(base / "published")}
    return {"base": base, "home": home, "warehouse": warehouse, "published": base / "published", "env": env}


def materialize_landing(w: dict) -> None:
    """The unpartitioned inputs, catalog/* and raw/*, as one run."""
    dagster_cli(["asset", "materialize", "-m", "orchestration.definitions", "--select", "group:landing",
                 "--config-json", IN_PROCESS], w["env"], w["base"] / "dagster_landing.log")


@pytest.fixture(scope="module")
def backfilled(world):
    """Path 2: the Dagster CLI against its own instance. `dagster asset materialize` executes the
    run itself (execute_job), so the default QueuedRunCoordinator never holds it: no daemon needed."""
    w = dagster_world(world, "dagster_cli")
    materialize_landing(w)
    # everything else is partitioned by billing month: one run over the range
    dagster_cli(["asset", "materialize", "-m", "orchestration.definitions", "--select", "not group:landing",
                 "--partition-range", f"{MONTHS[0]}...{MONTHS[-1]}", "--config-json", IN_PROCESS],
                w["env"], w["base"] / "dagster_backfill.log")
    return w


def published(warehouse: Path) -> dict[str, list[tuple]]:
    return {t: rows(warehouse, f"select * from billing.{t} order by all") for t in PUBLISHED}


def test_dagster_backfill_bills_like_tally_run(world, reference, backfilled):
    expected = published(reference)
    assert published(backfilled["warehouse"]) == expected
    ids = {r[0] for r in rows(reference, "select invoice_id from billing.invoices")}
    assert ids == expected_invoice_ids(world["catalog"], MONTHS)
    assert ids == {
        "inv_sub_c_20260901",                                                           # September
        "inv_sub_a_20261001", "inv_sub_b_20261016_open", "inv_sub_b_20261016", "inv_sub_c_20261001",  # Oct
        "inv_sub_a_20261101", "inv_sub_b_20261101",                                     # November
    }
    assert dict(rows(reference, "select invoice_id, total_amount from billing.invoices")) == {
        # 1000 plan + 1.5 % of (5000 − 1000 free on the first event) + 2 per paid event
        "inv_sub_c_20260901": D(1062),
        # prorated 20/31 of 1000 = 645.16 → 645; the only October event is the free one
        "inv_sub_c_20261001": D(645),
        # 49 + 0 calls + 1000 × 0.001 + 835 × 0.003 = 2.505 → 2.51 + GPUs 2 × 21/31 × 10 = 13.548 → 13.55
        "inv_sub_a_20261001": D("66.06"),
        # 49 + 2000 × 0.003 + GPUs 3 × 16/30 × 10 = 16
        "inv_sub_a_20261101": D("71.00"),
        "inv_sub_b_20261016_open": D("15.48"),  # 30 × 16/31
        # 30 (November in advance) + seats u1 u2 u3 − 1 free = 2 → 1 package × 5 + 120.5 GB × 0.4
        "inv_sub_b_20261016": D("83.20"),
        # 30 (December in advance) + seats u1 u3 u4 (u2 removed) − 1 → 5 + 40 GB × 0.5 + 1 flat
        "inv_sub_b_20261101": D("56.00"),
    }
    # the published files too, month by month
    for month in ("2026-09", "2026-10", "2026-11"):
        for table in PUBLISHED:
            assert (backfilled["published"] / month / f"{table}.csv").read_bytes() == \
                (world["base"] / "p1" / month / f"{table}.csv").read_bytes(), (month, table)


def test_every_month_of_every_partitioned_asset_is_materialized_in_one_run(backfilled):
    from dagster import AssetKey, DagsterEventType, DagsterInstance

    from orchestration.defs.dbt import billing_models
    from orchestration.defs.publish import published_billing

    instance = DagsterInstance.from_config(str(backfilled["home"]))
    try:
        partitioned = [*billing_models.keys, published_billing.key]
        assert AssetKey(["marts", "fct_invoices"]) in partitioned
        missing = {k.to_user_string(): sorted(set(MONTHS) - instance.get_materialized_partitions(k))
                   for k in partitioned}
        assert {k: v for k, v in missing.items() if v} == {}
        assert instance.get_latest_materialization_event(AssetKey(["raw", "events"])) is not None
        # two runs: the landing one, and one for the whole range (single-run backfill)
        runs = instance.get_runs()
        assert len(runs) == 2 and all(r.is_success for r in runs)
        ranged = [r for r in runs if "dagster/asset_partition_range_start" in r.tags]
        assert len(ranged) == 1
        assert (ranged[0].tags["dagster/asset_partition_range_start"],
                ranged[0].tags["dagster/asset_partition_range_end"]) == (MONTHS[0], MONTHS[-1])
        # the blocking Great Expectations checks ran in that run, and passed
        evaluations = [e.dagster_event.event_specific_data for e in instance.all_logs(
            ranged[0].run_id, of_type=DagsterEventType.ASSET_CHECK_EVALUATION)]
        checks = {e.check_name: e.passed for e in evaluations}
        assert {k: v for k, v in checks.items() if k.startswith("gx_")} == \
            {"gx_raw_events": True, "gx_usage": True, "gx_invoices": True}
    finally:
        instance.dispose()


LAUNCH_BACKFILL = """
mutation($params: LaunchBackfillParams!) {
  launchPartitionBackfill(backfillParams: $params) {
    __typename
    ... on LaunchBackfillSuccess { backfillId }
    ... on PythonError { message stack }
    ... on InvalidSubsetError { message }
    ... on UnauthorizedError { message }
  }
}"""


@pytest.mark.skipif(not os.environ.get("TALLY_SLOW_TESTS"),
                    reason="daemon, code server and run worker: minutes more; set TALLY_SLOW_TESTS=1")
def test_asset_backfill_through_the_daemon_bills_like_tally_run(world, reference):
    """The UI's own call, launchPartitionBackfill, run by the backfill daemon: one run for the range."""
    import signal
    import time

    from dagster import DagsterInstance
    from dagster._core.execution.backfill import BulkActionStatus

    from orchestration.defs.dbt import billing_models
    from orchestration.defs.publish import published_billing

    w = dagster_world(world, "dagster_daemon")
    materialize_landing(w)
    params = {"assetSelection": [{"path": k.path} for k in (*billing_models.keys, published_billing.key)],
              "partitionNames": MONTHS, "title": "finance: September to November",
              "runConfigData": json.loads(IN_PROCESS)}
    response = w["base"] / "launch.json"
    graphql = str(Path(sys.executable).with_name("dagster-graphql"))
    dagster_cli(["-m", "orchestration.definitions", "-t", LAUNCH_BACKFILL,
                 "-v", json.dumps({"params": params}), "-o", str(response)],
                w["env"], w["base"] / "graphql.log", program=graphql)
    launched = json.loads(response.read_text())["data"]["launchPartitionBackfill"]
    assert launched["__typename"] == "LaunchBackfillSuccess", launched
    with (w["base"] / "daemon.log").open("w") as log:
        daemon = subprocess.Popen([str(Path(sys.executable).with_name("dagster-daemon")), "run",
                                   "-m", "orchestration.definitions"], stdout=log, stderr=subprocess.STDOUT,
                                  env=w["env"], cwd=REPO, start_new_session=True)
    instance = DagsterInstance.from_config(str(w["home"]))
    try:
        deadline = time.monotonic() + 900
        while time.monotonic() < deadline:
            backfill = instance.get_backfill(launched["backfillId"])
            if backfill.status not in (BulkActionStatus.REQUESTED, BulkActionStatus.CANCELING,
                                       BulkActionStatus.FAILING):
                break
            assert daemon.poll() is None, (w["base"] / "daemon.log").read_text()[-4000:]
            time.sleep(2)
        assert backfill.status == BulkActionStatus.COMPLETED_SUCCESS, \
            (w["base"] / "daemon.log").read_text()[-4000:]
        runs = [r for r in instance.get_runs() if r.tags.get("dagster/backfill") == launched["backfillId"]]
        assert len(runs) == 1 and runs[0].is_success  # single_run: one dbt build for the three months
        assert (runs[0].tags["dagster/asset_partition_range_start"],
                runs[0].tags["dagster/asset_partition_range_end"]) == (MONTHS[0], MONTHS[-1])
    finally:
        instance.dispose()
        os.killpg(daemon.pid, signal.SIGTERM)
        try:
            daemon.wait(timeout=60)
        except subprocess.TimeoutExpired:
            pass
        try:  # whatever of the daemon's group (code server, run worker) outlived it
            os.killpg(daemon.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        daemon.wait(timeout=60)
    assert published(w["warehouse"]) == published(reference)
