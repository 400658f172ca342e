"""`tally run --engine spark` on several worlds in one process (one JVM, one Derby metastore
under --spark-dir), for tests/e2e/test_spark_parity.py: each world is billed and published by
orchestration/engines/spark/runner.py (and a month finalized when the world names one), its
summary, `billing` tables and marts are written
out (`<out>/<world>/summary.json`, `<out>/<world>/<schema>.<table>/` Parquet), then its
databases are dropped so the next world starts from an empty warehouse. With --unit-tests, the
dbt unit tests (but those of the staged models, tests/spark_build.py) run once, after the first
world."""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from dataclasses import asdict
from datetime import date
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--world", action="append", required=True, metavar="JSON",
                        help='{"name", "catalog", "landing", "warehouse", "publish", "from", "to"[, "finalize"]}')
    parser.add_argument("--spark-dir", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--unit-tests", action="store_true", help="run the dbt unit tests after the first world")
    args = parser.parse_args()
    os.environ["TALLY_SPARK_DIR"] = str(args.spark_dir.resolve())
    from orchestration.engines.spark import runner
    from orchestration.engines.spark.session import SparkDbt
    from orchestration.lib.months import months_between
    from tests.spark_build import unit_tests_left_out
    summary = {"success": True}
    for index, world in enumerate(json.loads(w) for w in args.world):
        started = time.monotonic()
        months = months_between(date.fromisoformat(world["from"] + "-01"), date.fromisoformat(world["to"] + "-01"))
        billed = runner.run(Path(world["catalog"]), Path(world["landing"]), Path(world["warehouse"]), months,
                            Path(world["publish"]), pages=world.get("pages", True),
                            progress=lambda msg, t0=started: print(f"[{time.monotonic() - t0:6.1f} s] {msg}",
                                                                   file=sys.stderr))
        from pyspark.sql import SparkSession
        spark = SparkSession.builder.getOrCreate()
        if world.get("finalize"):  # `tally finalize --engine spark --force` of that month
            from orchestration.engines.spark import finalize as spark_finalizer
            spark_finalizer.finalize(spark, date.fromisoformat(world["finalize"] + "-01"), date.today(),
                                     Path(world["publish"]), force=True)
        billed_at = time.monotonic()
        print(f"[{billed_at - started:6.1f} s] billed", file=sys.stderr)
        out = args.out / world["name"]
        out.mkdir(parents=True, exist_ok=True)
        (out / "summary.json").write_text(json.dumps(asdict(billed), default=str))
        for schema in ("billing", "marts", "finalized"):
            for table in spark.catalog.listTables(schema):
                if table.isTemporary:  # the landing's views (tally_lines, ...)
                    continue
                spark.table(f"{schema}.{table.name}").coalesce(1).write.mode("overwrite") \
                    .parquet(str(out / f"{schema}.{table.name}"))
        entry = {"run_seconds": round(billed_at - started, 1)}
        if index == 0 and args.unit_tests:
            tested = time.monotonic()
            dbt = SparkDbt(Path(world["warehouse"]).resolve())
            result = dbt.invoke(["test", "--select", "resource_type:unit_test", "--exclude", *unit_tests_left_out()])
            entry["unit_tests"] = len(result.result or [])
            entry["unit_test_failures"] = [r.node.unique_id for r in (result.result or [])
                                           if str(r.status) not in ("success", "pass")]
            entry["unit_test_seconds"] = round(time.monotonic() - tested, 1)
            summary["success"] = summary["success"] and result.success
        for database in spark.catalog.listDatabases():
            if database.name != "default":
                spark.sql(f"drop database {database.name} cascade")
        entry["seconds"] = round(time.monotonic() - started, 1)
        summary[world["name"]] = entry
    print("SPARK_RUN " + json.dumps(summary))
    sys.stdout.flush()
    os._exit(0 if summary["success"] else 1)


if __name__ == "__main__":
    main()
