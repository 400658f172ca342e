"""A 3-month backfill launched through Dagster bills exactly what `tally run --from --to` bills.

The world: the small fixture catalog (sub_a USD from Oct 1; sub_b EUR, in advance, from Oct 16;
sub_c JPY, Sep 1 to Oct 20) and a few events in September, October and November 2026.

Path 1 is `tally run --from 2026-09 --to 2026-11`. Path 2 is what finance does in the Dagster
UI (README, For finance): `dagster dev` as `make dagster` starts it, the `bill_months` job
backfilled for the three months (the UI's GraphQL call, run by the daemon: one run, one dbt
build), the month totals read off the billing/published page in Chromium, then October closed
with the `finalize_month` job and seen closed on billing/finalized. Screenshots go to
docs/screenshots/ with TALLY_UPDATE_SCREENSHOTS=1 (the README shows them).
"""
from __future__ import annotations

import csv
import json
import os
import shutil
import tempfile
from datetime import date, timedelta
from decimal import Decimal as D
from pathlib import Path

import pytest

from tests.dagster_ui import Browser, DagsterUI, chromium
from tests.helpers import REPO, rows, tally

MONTHS = ["2026-09", "2026-10", "2026-11"]
# the README's finance screenshots: rewritten with TALLY_UPDATE_SCREENSHOTS=1, else kept apart
SCREENSHOTS = (REPO / "docs" / "screenshots" if os.environ.get("TALLY_UPDATE_SCREENSHOTS")
               else Path(tempfile.mkdtemp(prefix="tally-screenshots-")))
PUBLISHED = ("invoices", "invoice_lines", "fee_tiers")


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
        for m in (date.fromisoformat(f"{month}-01") for month in months):
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


def dagster_world(world, name: str) -> dict:
    """A DAGSTER_HOME (the one `make dagster` uses: one run at a time), a warehouse and a publish
    folder of its own, and the env that points at them, as `make dagster` sets it."""
    base = world["base"] / name
    home = base / "dagster_home"
    home.mkdir(parents=True)
    shutil.copy(REPO / "orchestration" / "dagster_home" / "dagster.yaml", home / "dagster.yaml")
    warehouse = base / "w.duckdb"
    env = {**os.environ, "DAGSTER_HOME": str(home), "DAGSTER_DISABLE_TELEMETRY": "1",
           "DBT_SEND_ANONYMOUS_USAGE_STATS": "false", "TALLY_FIRST_MONTH": MONTHS[0],
           "TALLY_WAREHOUSE": str(warehouse), "TALLY_CATALOG": str(world["catalog"]),
           "TALLY_LANDING": str(world["landing"]), "TALLY_PUBLISH": str(base / "published")}
    return {"base": base, "home": home, "warehouse": warehouse, "published": base / "published", "env": env}


@pytest.fixture(scope="module")
def ui(world):
    """Path 2: the Dagster UI finance uses (`dagster dev`: webserver, daemon, run queue) over a
    DAGSTER_HOME, warehouse and publish folder of its own, as `make dagster` starts it."""
    w = dagster_world(world, "dagster_ui")
    server = DagsterUI.start(w["env"], w["base"] / "dagster_dev.log")
    try:
        yield {**w, "server": server}
    finally:
        server.stop()


@pytest.fixture(scope="module")
def browser():
    executable = chromium()
    if executable is None:
        pytest.skip("no Chromium on this machine (Debian: apt-get install chromium; `make test` installs it "
                    "where it can): the finance path in the Dagster UI needs a browser")
    browser = Browser(executable)
    yield browser
    browser.close()


@pytest.fixture(scope="module")
def backfilled(ui, browser):
    """Jobs → bill_months → Partitions → Materialize… → [2026-09...2026-11] → Launch backfill, clicked
    in the UI and run by the daemon. bill_months holds the catalog, the landing, every dbt model, the
    checks and publishing; the partitioned assets have a single-run backfill policy: one run."""
    launched = browser.launch(ui["server"], "bill_months", f"[{MONTHS[0]}...{MONTHS[-1]}]",
                              shot=SCREENSHOTS / "finance-bill-months.png")
    assert launched["partitions"] == MONTHS
    ui["server"].wait_for_backfill(launched["backfill"])
    ui["backfill"] = launched["backfill"]
    return ui


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
        # one run for the whole range, the landing and catalog included (single-run backfill)
        runs = instance.get_runs()
        assert len(runs) == 1 and runs[0].is_success
        assert runs[0].tags["dagster/backfill"] == backfilled["backfill"]
        ranged = [r for r in runs if "dagster/asset_partition_range_start" in r.tags]
        assert len(ranged) == 1
        assert (ranged[0].tags["dagster/asset_partition_range_start"],
                ranged[0].tags["dagster/asset_partition_range_end"]) == (MONTHS[0], MONTHS[-1])
        # the blocking Great Expectations checks ran in that run, and passed
        evaluations = [e.dagster_event.event_specific_data for e in instance.all_logs(
            ranged[0].run_id, of_type=DagsterEventType.ASSET_CHECK_EVALUATION)]
        checks = {(e.asset_key.to_user_string(), e.check_name): e.passed for e in evaluations}
        assert checks == {("staging/stg_events", "events_are_billable"): True,
                          ("intermediate/int_usage_by_period", "usage_is_consistent"): True,
                          ("marts/fct_invoices", "invoices_add_up"): True,
                          # the same three on the published asset's page, as they stood when it published
                          ("billing/published", "events_are_billable"): True,
                          ("billing/published", "usage_is_consistent"): True,
                          ("billing/published", "invoices_add_up"): True}
    finally:
        instance.dispose()


def test_finance_reads_the_month_totals_and_closes_october_in_the_ui(backfilled, browser):
    """The README's finance path after the backfill: each month's totals on billing/published
    equal billing.invoices; October is closed from the finalize_month job and shows closed."""
    server, warehouse = backfilled["server"], backfilled["warehouse"]
    invoices = rows(warehouse, "select strftime(period_end, '%Y-%m'), currency, count(*), sum(total_amount) "
                               "from billing.invoices group by all order by all")
    assert invoices == [
        ("2026-09", "JPY", 1, D(1062)), ("2026-10", "EUR", 2, D("98.68")), ("2026-10", "JPY", 1, D(645)),
        ("2026-10", "USD", 1, D("66.06")), ("2026-11", "EUR", 1, D("56.00")), ("2026-11", "USD", 1, D("71.00"))]
    shown = {}
    for month in MONTHS:
        browser.open(f"{server.url}/assets/billing/published?view=partitions&partition={month}", "invoices")
        shown[month] = {label: browser.metadata_row(label) for label in
                        ("invoices", "finalized", "total EUR", "total JPY", "total USD")
                        if browser.page.get_by_text(label, exact=True).count()}
        if month == "2026-10":
            browser.screenshot(SCREENSHOTS / "finance-month-totals.png")
    assert shown == {
        "2026-09": {"invoices": "1", "finalized": "false", "total JPY": "¥1,062"},
        "2026-10": {"invoices": "4", "finalized": "false", "total EUR": "€98.68", "total JPY": "¥645",
                    "total USD": "$66.06"},
        "2026-11": {"invoices": "2", "finalized": "false", "total EUR": "€56.00", "total USD": "$71.00"},
    }

    launched = browser.launch(server, "finalize_month", "2026-10")  # one month: one run
    assert launched["partitions"] == ["2026-10"]
    server.wait_for_run("finalize_month", launched["run"])
    browser.open(f"{server.url}/assets/billing/finalized?view=partitions&partition=2026-10", "closed")
    closed = {label: browser.metadata_row(label) for label in ("invoices", "total USD", "closed")}
    browser.screenshot(SCREENSHOTS / "finance-month-closed.png")
    assert closed == {"invoices": "4", "total USD": "$66.06", "closed": f"finalized on {date.today()}"}
    assert rows(warehouse, "select distinct status from billing.invoices where period_end >= date '2026-10-01' "
                           "and period_end < date '2026-11-01'") == [("finalized",)]
