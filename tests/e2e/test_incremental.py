"""The daily run: events landed after a month was billed are rated from the daily meters they
touch, not from history. The incremental state (daily meters, unique ids, unresolved events)
and every published table must then be exactly what a run from scratch over the same files
gives: the daily run is an optimisation, never a different answer."""
from __future__ import annotations

import json
import shutil

from tests.helpers import copy_landing, table_dump, tally, write_api_calls_parquet

STATE = ("int_usage_daily", "int_unique_ids_daily", "int_events_unresolved")


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


def test_daily_run_equals_a_run_from_scratch(tmp_path, small_catalog):
    landing = copy_landing("small", tmp_path / "landing")
    write_api_calls_parquet(landing / "c_calls.parquet", 10_005)
    daily = tmp_path / "daily.duckdb"
    tally("run", "--catalog", str(small_catalog), "--landing", str(landing), "--warehouse", str(daily),
          "--period", "2026-10", "--no-pages")
    before = dumps(daily)[1]["int_usage_daily"]
    (landing / "d_day.jsonl").write_text(day_file())
    args = ["--catalog", str(small_catalog), "--landing", str(landing), "--from", "2026-10", "--to", "2026-11",
            "--no-pages"]
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
    reasons = sorted(r[3] for r in scratch_billing["quarantined_events"] if r[2] in ("tok_2", "ghost"))
    assert reasons == ["conflicting_duplicate", "unknown_subscription"]
