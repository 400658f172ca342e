"""The dbt layer on Spark over a DuckDB warehouse's inputs (issue 14, first milestone).

`export_sources` writes every table the dbt sources read (dbt_project/models/**/_sources.yml)
from a DuckDB warehouse to Parquet, `<root>/<schema>/<table>/`. `python -m tests.spark_build`
then, in one process (one local Spark session, one Derby metastore under --spark-dir), for each
world declares its files as the sources (macro attach_parquet_sources), runs `dbt build --target
spark` and writes every mart (fct_*) to `<out>/<world>/<mart>/` as Parquet for comparison."""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import duckdb
import yaml

REPO = Path(__file__).resolve().parent.parent
DBT_PROJECT = REPO / "dbt_project"


def source_tables() -> list[tuple[str, str]]:
    tables = []
    for path in sorted((DBT_PROJECT / "models").rglob("_*sources.yml")):
        for source in yaml.safe_load(path.read_text())["sources"]:
            tables += [(source.get("schema", source["name"]), t["name"]) for t in source["tables"]]
    return tables


def marts() -> list[str]:
    return sorted(p.stem for p in (DBT_PROJECT / "models" / "marts").rglob("fct_*.sql"))


def staged_models() -> list[str]:
    """Models Spark builds in steps (dbt_project.yml `+meta: {spark_stage_ctes: true}`)."""
    found = []

    def walk(tree: dict) -> None:
        for key, value in tree.items():
            if isinstance(value, dict):
                if (value.get("+meta") or {}).get("spark_stage_ctes"):
                    found.append(key)
                walk(value)

    walk(yaml.safe_load((DBT_PROJECT / "dbt_project.yml").read_text())["models"])
    return sorted(found)


def unit_tests_left_out() -> list[str]:
    """dbt unit tests of the staged models: a unit test inlines its fixtures as CTEs into the
    model's whole chain, one query Spark's planner does not finish (the steps need tables). They
    run on DuckDB (tests/e2e/test_dbt_unit_tests.py); the models themselves build on Spark."""
    return [f"{model},resource_type:unit_test" for model in staged_models()]


def export_sources(warehouse: Path, root: Path) -> dict[str, int]:
    counts = {}
    with duckdb.connect(str(warehouse), read_only=True) as con:
        for schema, table in source_tables():
            folder = root / schema / table
            folder.mkdir(parents=True, exist_ok=True)
            con.execute(f"copy (select * from {schema}.{table}) to '{folder}/part-0.parquet' (format parquet)")
            counts[f"{schema}.{table}"] = con.execute(f"select count(*) from {schema}.{table}").fetchone()[0]
    return counts


def build(worlds: dict[str, Path], spark_dir: Path, out: Path, select: list[str] | None = None) -> dict:
    """Each world in turn in one Spark session: its sources attached, `dbt build`, its marts
    written to `<out>/<world>/<mart>/`. The dbt unit tests (which read no source) run with the
    first world only."""
    os.environ["TALLY_SPARK_DIR"] = str(spark_dir)
    os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
    from dbt.cli.main import dbtRunner

    common = ["--project-dir", str(DBT_PROJECT), "--profiles-dir", str(DBT_PROJECT), "--target", "spark",
              "--target-path", str(spark_dir / "target"), "--log-path", str(spark_dir / "logs")]
    runner = dbtRunner()
    summary = {"success": True}
    for index, (name, sources) in enumerate(worlds.items()):
        started = time.monotonic()
        result = runner.invoke(["run-operation", "attach_parquet_sources", "--args",
                                json.dumps({"root": str(sources)}), *common])
        if not result.success:
            raise SystemExit(f"attach_parquet_sources failed: {result.exception}")
        attached = time.monotonic()
        exclude = unit_tests_left_out() if index == 0 else ["resource_type:unit_test"]
        result = runner.invoke(["build", *common, *(["--select", *select] if select else []), "--exclude", *exclude])
        built = time.monotonic()
        from pyspark.sql import SparkSession

        spark = SparkSession.getActiveSession()
        for mart in marts():
            if spark.catalog.tableExists(f"marts.{mart}"):
                spark.table(f"marts.{mart}").coalesce(1).write.mode("overwrite").parquet(str(out / name / mart))
        summary[name] = {
            "success": result.success, "nodes": len(result.result or []),
            "failures": [(r.node.unique_id, str(r.status), r.message) for r in (result.result or [])
                         if str(r.status) not in ("success", "pass")],
            "attach_seconds": round(attached - started, 1), "build_seconds": round(built - attached, 1)}
        summary["success"] = summary["success"] and result.success
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--world", action="append", required=True, metavar="NAME=SOURCES",
                        help="a world's exported sources (export_sources); repeatable")
    parser.add_argument("--spark-dir", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--select", nargs="*")
    args = parser.parse_args()
    worlds = {name: Path(path).resolve() for name, path in (w.split("=", 1) for w in args.world)}
    summary = build(worlds, args.spark_dir.resolve(), args.out.resolve(), args.select)
    print("SPARK_BUILD " + json.dumps(summary))
    sys.stdout.flush()
    os._exit(0 if summary["success"] else 1)


if __name__ == "__main__":
    main()
