"""The DuckDB event generator behind `make bench` and `DEMO_EVENTS=N make demo`."""
from __future__ import annotations

import csv
from datetime import datetime, timedelta
from pathlib import Path

import duckdb

from seeds import bulk_events
from seeds.generate_demo import CATALOG_DIR, write_bulk

SUBSCRIPTIONS = """
    select * from (values
        (0, 'sub_a', ['api_calls'], timestamp '2026-11-02', cast(86400000000 as bigint)),
        (1, 'sub_b', ['tokens', 'seats'], timestamp '2026-11-05 12:00', cast(3600000000 as bigint))
    ) t(k, subscription, codes, from_at, span_us)"""


def test_events_follow_their_subscriptions_with_the_stated_anomalies(tmp_path: Path):
    path = tmp_path / "e.parquet"
    with duckdb.connect() as con:
        bulk_events.write(con, path, SUBSCRIPTIONS, 6000, seed=3)
        rows = con.execute(f"select * from read_parquet('{path}')").fetchall()
    # 6,000 events and a re-send of each i with i % 200 = 3: 30 more
    assert len(rows) == 6030
    assert len({r[0] for r in rows}) == 6000
    assert sum(r[3] is None for r in rows) == 2                       # i = 7, 3007: no code
    assert sum(r[4] == "yesterday" for r in rows) == 2                # i = 1507, 4507
    windows = {"sub_a": (datetime(2026, 11, 2), timedelta(days=1), {"api_calls"}),
               "sub_b": (datetime(2026, 11, 5, 12), timedelta(hours=1), {"tokens", "seats"})}
    for tx, customer, sub, code, ts, props, precise in rows:
        assert precise is None  # only the pass-through metric's events carry a price
        start, span, codes = windows[sub]
        assert customer is None and (code is None or code in codes)
        if ts != "yesterday":
            assert start <= datetime.strptime(ts, "%Y-%m-%dT%H:%M:%S.%fZ") < start + span
    assert {r[3] for r in rows if r[1] is None and r[2] == "sub_b"} >= {"tokens", "seats"}


def test_demo_bulk_events_go_to_subscriptions_active_all_day_in_november(tmp_path: Path):
    path = tmp_path / "bulk.parquet"
    assert write_bulk(path, CATALOG_DIR, 20_000, seed=42) == 20_100
    with (CATALOG_DIR / "subscriptions.csv").open(newline="", encoding="utf-8") as fh:
        subs = {r["external_id"]: r for r in csv.DictReader(fh)}
    with duckdb.connect() as con:
        spans = con.execute(f"""select external_subscription_id, min(timestamp), max(timestamp)
                                from read_parquet('{path}') where timestamp <> 'yesterday' group by 1""").fetchall()
    assert len(spans) > 90
    for sub, first, last in spans:
        started = datetime.fromisoformat(subs[sub]["started_at"])
        ending = subs[sub]["ending_at"]
        assert first >= max(started + timedelta(days=1), datetime(2026, 11, 2)).strftime("%Y-%m-%dT%H:%M:%S")
        assert last < "2026-11-30"
        assert not ending or last < f"{datetime.fromisoformat(ending) - timedelta(days=1):%Y-%m-%d}"
