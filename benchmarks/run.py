"""`make bench`: time `tally run` over N synthetic events (default 1,000,000) for the demo catalog.

Events are generated in DuckDB SQL straight to Parquet (the volume format), spread over the
demo subscriptions and metrics of October 2026. Prints wall time and events per second.
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb

from orchestration.paths import DEFAULT_CATALOG


def generate(path: Path, events: int) -> None:
    with duckdb.connect() as con:
        subs = con.execute(f"select external_id from read_csv('{DEFAULT_CATALOG}/subscriptions.csv') "
                           "where ending_at is null order by 1").fetchall()
        names = ", ".join(f"'{s}'" for (s,) in subs)
        con.execute(f"""
            copy (
                with subs as (select unnest([{names}]) as sub),
                numbered as (select row_number() over () - 1 as k, sub from subs)
                select 'bench_' || i as transaction_id, cast(null as varchar) as external_customer_id,
                       (select sub from numbered where k = i % (select count(*) from subs)) as external_subscription_id,
                       'api_calls' as code,
                       timestamp '2026-10-01 12:00:00' + to_seconds(i % (29 * 86400)) as timestamp,
                       '{{}}' as properties
                from range({events}) t(i)
            ) to '{path}' (format parquet)
        """)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=1_000_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        landing = Path(tmp) / "landing"
        landing.mkdir()
        t0 = time.perf_counter()
        generate(landing / "bench.parquet", args.events)
        t1 = time.perf_counter()
        tally = str(Path(sys.executable).with_name("tally"))
        subprocess.run([tally, "run", "--landing", str(landing), "--warehouse", f"{tmp}/w.duckdb",
                        "--period", "2026-10", "--publish", f"{tmp}/pub"], check=True)
        t2 = time.perf_counter()
    print(f"generated {args.events:,} events in {t1 - t0:.1f}s; tally run {t2 - t1:.1f}s "
          f"({args.events / (t2 - t1):,.0f} events/s end to end, fixed costs included)")


if __name__ == "__main__":
    main()
