"""The daily run: events landed after a month was billed are rated from the daily meters they
touch, not from history. The incremental state (daily meters, unique ids, unresolved events)
and every published table must then be exactly what a run from scratch over the same files
gives: the daily run is an optimisation, never a different answer. Closed periods are state:
the per-period models rate again only the periods a batch touches (and those after them)."""
from __future__ import annotations

import json
import shutil

import duckdb
import pytest

from tests.helpers import copy_landing, rows, table_dump, tally, write_api_calls_parquet

STATE = ("int_usage_daily", "int_unique_ids_daily", "int_events_unresolved", "int_usage_by_period",
         "int_progressive_invoices")
# progressive billing on every plan, so the per-period state of int_progressive_invoices is
# exercised too: levels low enough that the small world's usage crosses them
THRESHOLDS = ("plan_code,amount,recurring\nbasic_usd,1.00,false\nbasic_usd,2.00,true\n"
              "adv_eur,5.00,false\njp_jpy,50,false\n")


@pytest.fixture
def catalog(tmp_path, small_catalog):
    folder = shutil.copytree(small_catalog, tmp_path / "catalog")
    (folder / "usage_thresholds.csv").write_text(THRESHOLDS)
    return folder


def day_file() -> str:
    """One more day: late October events (local Oct 31 in Paris is partly Nov 1 UTC... and the
    other way round), November's first day, a resent event, a conflicting one, unknown ones."""
    events = [
        # a late October token event for sub_a (UTC), and a large-model one on Nov 1
        {"transaction_id": "tok_d1", "external_subscription_id": "sub_a", "code": "tokens",
         "timestamp": "2026-10-31T23:59:59Z", "properties": {"tokens": 1000, "model": "large"}},
        {"transaction_id": "tok_d2", "external_subscription_id": "sub_a", "code": "tokens",
         "timestamp": "2026-11-01T00:00:00Z", "properties": {"tokens": 7, "model": "small"}},
        # weighted sum: a change on a day that already had one (Oct 21) and on Nov 1
        {"transaction_id": "gpu_d1", "external_subscription_id": "sub_a", "code": "gpus",
         "timestamp": "2026-10-21T12:00:00Z", "properties": {"gpus": 3}},
        {"transaction_id": "gpu_d2", "external_subscription_id": "sub_a", "code": "gpus",
         "timestamp": "2026-11-01T06:00:00Z", "properties": {"gpus": 1}},
        # unique count (recurring): 00:30 Paris on Nov 1 is Oct 31 in UTC
        {"transaction_id": "seat_d1", "external_subscription_id": "sub_b", "code": "seats",
         "timestamp": "2026-10-31T23:30:00Z", "properties": {"user_id": "u1", "operation_type": "remove"}},
        {"transaction_id": "seat_d2", "external_subscription_id": "sub_b", "code": "seats",
         "timestamp": "2026-10-25T10:00:00+01:00", "properties": {"user_id": "u9"}},
        # max: a late higher value
        {"transaction_id": "gb_d1", "external_subscription_id": "sub_b", "code": "storage_gb",
         "timestamp": "2026-10-30T08:00:00Z", "properties": {"gb": 250}},
        # a resend (ignored), a conflicting resend (quarantined), an unknown subscription
        {"transaction_id": "tok_1", "external_subscription_id": "sub_a", "code": "tokens",
         "timestamp": "2026-10-03T10:00:00Z", "properties": {"model": "small", "tokens": 1000}},
        {"transaction_id": "tok_2", "external_subscription_id": "sub_a", "code": "tokens",
         "timestamp": "2026-10-03T10:00:00Z", "properties": {"tokens": 1}},
        {"transaction_id": "ghost", "external_subscription_id": "sub_zz", "code": "tokens",
         "timestamp": "2026-10-30T10:00:00Z", "properties": {"tokens": 1}},
    ]
    return "".join(json.dumps(e) + "\n" for e in events)


def dumps(warehouse):
    state = table_dump(warehouse, "intermediate")
    return table_dump(warehouse), {t: state[t] for t in STATE}


def test_daily_run_equals_a_run_from_scratch(tmp_path, catalog):
    landing = copy_landing("small", tmp_path / "landing")
    write_api_calls_parquet(landing / "c_calls.parquet", 10_005)
    daily = tmp_path / "daily.duckdb"
    tally("run", "--catalog", str(catalog), "--landing", str(landing), "--warehouse", str(daily),
          "--period", "2026-10", "--no-pages", "--publish", str(tmp_path / "published"))
    before = dumps(daily)[1]["int_usage_daily"]
    (landing / "d_day.jsonl").write_text(day_file())
    args = ["--catalog", str(catalog), "--landing", str(landing), "--from", "2026-10", "--to", "2026-11",
            "--no-pages", "--publish", str(tmp_path / "published")]
    tally("run", *args, "--warehouse", str(daily))

    scratch_landing = shutil.copytree(landing, tmp_path / "scratch_landing")
    scratch = tmp_path / "scratch.duckdb"
    tally("run", *[a if a != str(landing) else str(scratch_landing) for a in args], "--warehouse", str(scratch))

    daily_billing, daily_state = dumps(daily)
    scratch_billing, scratch_state = dumps(scratch)
    assert daily_state == scratch_state
    assert daily_billing == scratch_billing
    # the day did change the meters (else this test would prove nothing): the late events are in
    after = daily_state["int_usage_daily"]
    assert after != before
    assert len(scratch_billing["invoices"]) > 0
    # progressive invoices for every subscription, so their state is compared with something in it
    progressive = rows(scratch, "select distinct external_subscription_id from billing.invoices "
                                "where invoice_type = 'progressive_billing' order by 1")
    assert progressive == [("sub_a",), ("sub_b",), ("sub_c",)]
    reasons = sorted(r[3] for r in scratch_billing["quarantined_events"] if r[2] in ("tok_2", "ghost"))
    assert reasons == ["conflicting_duplicate", "unknown_subscription"]


def test_daily_run_rates_only_the_periods_its_events_touch(tmp_path, catalog):
    """A closed period the day's events do not touch is not rated again: a value planted in its
    per-period state survives the daily run, while the touched subscriptions' periods are
    rated again from their meters (the planted value there is replaced)."""
    landing = copy_landing("small", tmp_path / "landing")
    warehouse = tmp_path / "w.duckdb"
    args = ["--catalog", str(catalog), "--landing", str(landing), "--warehouse", str(warehouse), "--no-pages",
            "--publish", str(tmp_path / "published")]
    tally("run", *args, "--period", "2026-10")
    with duckdb.connect(str(warehouse)) as con:
        for table, column in (("int_usage_by_period", "units"), ("int_progressive_invoices", "lifetime_usage_amount")):
            con.execute(f"update intermediate.{table} set {column} = 424242")
    (landing / "d_day.jsonl").write_text(day_file())
    tally("run", *args, "--from", "2026-10", "--to", "2026-11")

    def planted_rows(table, column):
        return sorted({r[0] for r in rows(warehouse, f"select external_subscription_id from intermediate.{table} "
                                                     f"where {column} = 424242")})

    # sub_c (ended Oct 20) sent nothing that day; sub_a and sub_b did, in October
    assert planted_rows("int_usage_by_period", "units") == ["sub_c"]
    assert planted_rows("int_progressive_invoices", "lifetime_usage_amount") == ["sub_c"]
