"""`make bench`: bill N synthetic Lago-shaped events and compare with a one-query floor.

    BENCH_EVENTS=10000000 make bench          # or: python -m benchmarks.run --events N
    BENCH_ENGINE=both BENCH_DAILY=0 make bench   # the month on DuckDB and on Spark (local session)

Prints, from one run:
- floor: one DuckDB GROUP BY over the same Parquet file that extracts the same properties
  (per subscription, metric, day, filter and group values: count, sum, max, distinct ids);
- `tally run` over the month, landing file -> published tables: wall time, events/s, ratio to
  the floor, peak RSS of the whole process tree (polled from /proc every 0.1 s); month files
  are written, HTML pages are not (--no-pages: they cost per customer, not per event);
- with --engine spark (or both): the same month billed by `tally run --engine spark` (a local
  Spark session, `local[*]`), its time, events/s and peak RSS (JVM included) beside DuckDB's;
- the daily run: one more day of events landed after the month was billed, `tally run` of the
  next month, after 1 month and after 3 months of history (--daily-history-events sets the
  monthly volume of that history; default: the same N), and its share of the month's run;
- the current-usage refresh (`tally refresh`, the job the new_landing_files sensor starts): 30
  days of a month of N events billed, then its last day (N/31 events) lands and is refreshed:
  its time, events/s and peak RSS (BENCH_REFRESH=0 skips it; BENCH_REFRESH_EVENTS sets N).
- with BENCH_SIMULATE=only (--simulate-only): three months of N events each billed by one `tally
  run`, then `tally simulate` of a price cut over the same three months: both times, peak RSS
  and the ratio (issue 16: a simulation costs about one run of its months).
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
from datetime import date
from pathlib import Path

import duckdb

from benchmarks import generate

MONTH = date(2026, 10, 1)
DAILY_DAY = date(2026, 11, 1)


def _children(pid: int) -> list[int]:
    parents: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as fh:
                ppid = int(fh.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        parents.setdefault(ppid, []).append(int(entry))
    tree, todo = [], [pid]
    while todo:
        p = todo.pop()
        tree.append(p)
        todo.extend(parents.get(p, []))
    return tree


def _rss_kib(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def timed(cmd: list[str], env: dict | None = None) -> tuple[float, int]:
    """Run cmd; return (wall seconds, peak RSS of its process tree in bytes)."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    peak = 0
    stop = threading.Event()

    def poll():
        nonlocal peak
        while not stop.is_set():
            peak = max(peak, sum(_rss_kib(p) for p in _children(proc.pid)))
            stop.wait(0.1)

    watcher = threading.Thread(target=poll, daemon=True)
    watcher.start()
    output = proc.stdout.read()
    code = proc.wait()
    elapsed = time.perf_counter() - t0
    stop.set()
    watcher.join()
    if code:
        raise SystemExit(f"{' '.join(cmd)} failed with exit code {code}:\n{output}")
    return elapsed, peak * 1024


FLOOR = """
select external_subscription_id, code, cast(try_cast("timestamp" as timestamptz) as date) as day,
       json_extract_string(properties, '$.model') as model,
       json_extract_string(properties, '$.region') as region,
       count(*) as events,
       sum(try_cast(coalesce(json_extract_string(properties, '$.tokens'), json_extract_string(properties, '$.gb'),
           json_extract_string(properties, '$.gpus'), json_extract_string(properties, '$.amount'),
           json_extract_string(properties, '$.models')) as decimal(38, 10))) as total,
       max(try_cast(json_extract_string(properties, '$.gb') as decimal(38, 10))) as peak,
       count(distinct json_extract_string(properties, '$.user_id')) as ids
from read_parquet(?)
group by all
"""


def floor(files: list[Path]) -> float:
    with duckdb.connect() as con:
        t0 = time.perf_counter()
        con.execute(f"create temp table floor as {FLOOR}", [[str(f) for f in files]])
        return time.perf_counter() - t0


def tally(catalog: Path, landing: Path, warehouse: Path, period: date, publish: Path,
          engine: str = "duckdb") -> tuple[float, int]:
    exe = str(Path(sys.executable).with_name("tally"))
    return timed([exe, "run", "--engine", engine, "--catalog", str(catalog), "--landing", str(landing),
                  "--warehouse", str(warehouse), "--period", f"{period:%Y-%m}", "--publish", str(publish),
                  "--no-pages"])


def model_timings(warehouse: Path, engine: str = "duckdb") -> list[tuple[str, float]]:
    """Per-node execution times of the last dbt build on this warehouse (its run_results)."""
    import json

    from orchestration.lib.dbt import target_path
    from orchestration.paths import DBT_PROJECT_DIR
    target = target_path(DBT_PROJECT_DIR, warehouse.resolve())
    if engine == "spark":  # orchestration/engines/spark/session.py: SparkDbt.common
        target = target.with_name(target.name + "-spark")
    results = json.loads((target / "run_results.json").read_text())["results"]
    return sorted(((r["unique_id"].split(".")[-1 if r["unique_id"].startswith("model") else 2], r["execution_time"])
                   for r in results), key=lambda x: -x[1])


def daily(tmp: Path, catalog: Path, history_months: int, per_month: int, customers: int) -> tuple[float, list]:
    """Bill `history_months` months, land one more day, time the run that bills it."""
    landing = tmp / f"landing_h{history_months}"
    landing.mkdir()
    first = date(MONTH.year, MONTH.month - history_months + 1, 1)
    for m in range(history_months):
        month = date(first.year, first.month + m, 1)
        generate.events(landing / f"events_{month:%Y-%m}.parquet", month, 31 if month.month in (8, 10) else 30,
                        per_month, customers, seed=100 + m)
    warehouse = tmp / f"h{history_months}.duckdb"
    exe = str(Path(sys.executable).with_name("tally"))
    timed([exe, "run", "--catalog", str(catalog), "--landing", str(landing), "--warehouse", str(warehouse),
           "--from", f"{first:%Y-%m}", "--to", f"{MONTH:%Y-%m}", "--no-pages"])
    generate.events(landing / f"events_{DAILY_DAY}.parquet", DAILY_DAY, 1, per_month // 30, customers, seed=99)
    seconds, _ = tally(catalog, landing, warehouse, DAILY_DAY, tmp / f"pub_h{history_months}")
    return seconds, model_timings(warehouse)


def refresh(tmp: Path, catalog: Path, per_month: int, customers: int) -> tuple[float, int, int]:
    """A month's first 30 days billed, then its last day landed: time `tally refresh` of that day."""
    landing = tmp / "landing_refresh"
    landing.mkdir()
    day = date(MONTH.year, MONTH.month, 31)
    generate.events(landing / f"events_{MONTH:%Y-%m}_1-30.parquet", MONTH, 30, per_month - per_month // 31,
                    customers, seed=7)
    warehouse = tmp / "refresh.duckdb"
    exe = str(Path(sys.executable).with_name("tally"))
    timed([exe, "run", "--catalog", str(catalog), "--landing", str(landing), "--warehouse", str(warehouse),
           "--period", f"{MONTH:%Y-%m}", "--no-pages"])
    day_file = landing / f"events_{day}.parquet"
    generate.events(day_file, day, 1, per_month // 31, customers, seed=98)
    sent = duckdb.execute(f"select count(*) from read_parquet('{day_file}')").fetchone()[0]
    seconds, rss = timed([exe, "refresh", "--catalog", str(catalog), "--landing", str(landing),
                          "--warehouse", str(warehouse), "--publish", str(tmp / "pub_refresh"), "--no-pages"])
    return seconds, rss, sent


def simulate(tmp: Path, catalog: Path, per_month: int, customers: int) -> None:
    """Three months billed, then a candidate (one price, the Pro plan's tokens, cut by a quarter)
    simulated over the same months."""
    landing = tmp / "landing_simulate"
    landing.mkdir()
    months = [date(2026, 8, 1), date(2026, 9, 1), date(2026, 10, 1)]
    for i, month in enumerate(months):
        generate.events(landing / f"events_{month:%Y-%m}.parquet", month, 31 if month.month in (8, 10) else 30,
                        per_month, customers, seed=200 + i)
    sent = duckdb.execute(f"select count(*) from read_parquet('{landing}/*.parquet')").fetchone()[0]
    warehouse = tmp / "simulate.duckdb"
    exe = str(Path(sys.executable).with_name("tally"))
    run_s, run_rss = timed([exe, "run", "--catalog", str(catalog), "--landing", str(landing), "--warehouse",
                            str(warehouse), "--from", "2026-08", "--to", "2026-10", "--no-pages"])
    candidate = tmp / "candidate"
    candidate.mkdir()
    with (catalog / "charges.csv").open(encoding="utf-8") as fh:
        header, *rows = fh.read().splitlines()
    cut = [r.replace('""0.000002""', '""0.0000015""') for r in rows if r.startswith("ch_pro_tokens,")]
    (candidate / "charges.csv").write_text("\n".join([header, *cut]) + "\n", encoding="utf-8")
    sim_s, sim_rss = timed([exe, "simulate", "--candidate", str(candidate), "--catalog", str(catalog),
                            "--warehouse", str(warehouse), "--from", "2026-08", "--to", "2026-10"])
    with duckdb.connect(str(warehouse), read_only=True) as con:
        changed, total = con.execute(
            "select count(*) filter (where change <> 'unchanged'), count(*) from simulation.invoice_diff").fetchone()
    print(f"three months of {per_month:,} events ({sent:,} sent), {customers:,} customers: tally run --from 2026-08 "
          f"--to 2026-10 {run_s:.2f} s ({sent / run_s:,.0f} events/s, peak RSS {run_rss / 2**30:.2f} GiB); "
          f"tally simulate of a price cut over the same months {sim_s:.2f} s ({sim_s / run_s:.2f}x the run, peak RSS "
          f"{sim_rss / 2**30:.2f} GiB), {changed:,} of {total:,} invoices changed")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=int(os.environ.get("BENCH_EVENTS", "1000000")))
    parser.add_argument("--customers", type=int, default=int(os.environ.get("BENCH_CUSTOMERS", "10000")))
    parser.add_argument("--daily-history-events", type=int,
                        default=int(os.environ.get("BENCH_DAILY_EVENTS", "0")) or None)
    parser.add_argument("--no-daily", action="store_true", default=os.environ.get("BENCH_DAILY") == "0")
    parser.add_argument("--no-refresh", action="store_true", default=os.environ.get("BENCH_REFRESH") == "0")
    parser.add_argument("--refresh-only", action="store_true", default=os.environ.get("BENCH_REFRESH") == "only",
                        help="only the current-usage refresh (BENCH_REFRESH=only)")
    parser.add_argument("--refresh-events", type=int,
                        default=int(os.environ.get("BENCH_REFRESH_EVENTS", "0")) or None)
    parser.add_argument("--simulate-only", action="store_true", default=os.environ.get("BENCH_SIMULATE") == "only",
                        help="only the simulation bench (BENCH_SIMULATE=only)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (warehouse, logs)")
    parser.add_argument("--engine", choices=("duckdb", "spark", "both"),
                        default=os.environ.get("BENCH_ENGINE", "duckdb"),
                        help="bill the month on DuckDB (default), on Spark (local session), or on both")
    args = parser.parse_args()
    engines = ["duckdb", "spark"] if args.engine == "both" else [args.engine]
    n = args.events
    with tempfile.TemporaryDirectory(dir=os.environ.get("BENCH_TMP")) as tmp_name:
        tmp = Path(tmp_name)
        if args.keep:
            tmp = Path(tempfile.mkdtemp(dir=os.environ.get("BENCH_TMP")))
            print(f"keeping {tmp}")
        catalog, landing = tmp / "catalog", tmp / "landing"
        landing.mkdir()
        generate.catalog(catalog, args.customers)
        if args.simulate_only:
            simulate(tmp, catalog, n, args.customers)
            return
        if not args.no_refresh:
            month_n = args.refresh_events or n
            r_s, r_rss, r_sent = refresh(tmp, catalog, month_n, args.customers)
            print(f"current-usage refresh of one day ({r_sent:,} events) of a {month_n:,}-event month after its "
                  f"first 30 days were billed: {r_s:.2f} s, {r_sent / r_s:,.0f} events/s, peak RSS "
                  f"{r_rss / 2**30:.2f} GiB; slowest dbt nodes (s): "
                  + ", ".join(f"{name} {sec:.1f}" for name, sec in model_timings(tmp / "refresh.duckdb")[:6]))
            if args.refresh_only:
                return
        t0 = time.perf_counter()
        month_file = landing / f"events_{MONTH:%Y-%m}.parquet"
        generate.events(month_file, MONTH, 31, n, args.customers)
        gen = time.perf_counter() - t0
        sent = duckdb.execute(f"select count(*) from read_parquet('{month_file}')").fetchone()[0]
        floor_s = floor([month_file])
        print(f"machine: {os.cpu_count()} cores; {args.customers:,} customers; {sent:,} events sent "
              f"(generated in {gen:.1f} s)")
        print(f"floor (one GROUP BY over the file): {floor_s:.2f} s")
        for engine in engines:
            warehouse = tmp / f"w_{engine}.duckdb"
            run_s, rss = tally(catalog, landing, warehouse, MONTH, tmp / f"pub_{engine}", engine)
            timings = model_timings(warehouse, engine)
            print(f"tally run --engine {engine} --period {MONTH:%Y-%m}: {run_s:.2f} s, {sent / run_s:,.0f} events/s, "
                  f"{run_s / floor_s:.1f}x floor, peak RSS {rss / 2**30:.2f} GiB")
            print(f"  slowest dbt nodes on {engine} (s): "
                  + ", ".join(f"{name} {sec:.1f}" for name, sec in timings[:8]))
        if len(engines) == 2:
            differ = [p.name for p in sorted((tmp / "pub_duckdb").rglob("*.csv"))
                    if p.read_bytes() != (tmp / "pub_spark" / p.relative_to(tmp / "pub_duckdb")).read_bytes()]
            print(f"published CSV files that differ between the engines: {differ or 'none'}")
        if args.no_daily or engines == ["spark"]:
            return
        per_month = args.daily_history_events or n
        d1, t1 = daily(tmp, catalog, 1, per_month, args.customers)
        d3, t3 = daily(tmp, catalog, 3, per_month, args.customers)
        for months, timings in ((1, t1), (3, t3)):
            print(f"daily run after {months} month(s), slowest dbt nodes (s): "
                  + ", ".join(f"{name} {sec:.1f}" for name, sec in timings[:10]))
        print(f"daily run ({per_month // 30:,} new events) after 1 month of {per_month:,}: {d1:.2f} s; "
              f"after 3 months: {d3:.2f} s ({d3 / d1:.2f}x); {d1 / run_s:.0%} of the month's run")


if __name__ == "__main__":
    main()
