"""Helpers shared by both layers: paths, `tally` as a user runs it (the installed console
script), fixture folders, and read-only looks into a warehouse."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb

REPO = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
SMALL_CATALOG = FIXTURES / "small" / "catalog"
TALLY = str(Path(sys.executable).with_name("tally"))
# the API calls tests/fixtures/small gets as Parquet (write_api_calls_parquet) in most e2e worlds
SMALL_API_CALLS = 10_005


def tally(*args: str, check: bool = True, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    # a test's own DAGSTER_HOME only: never the instance of the shell that runs the tests
    inherited = {k: v for k, v in os.environ.items() if k != "DAGSTER_HOME"}
    env = {**inherited, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false", "DAGSTER_DISABLE_TELEMETRY": "1", **(env or {})}
    proc = subprocess.run([TALLY, *args], capture_output=True, text=True, env=env, cwd=REPO, timeout=900,
                          check=False)
    if check and proc.returncode != 0:
        raise AssertionError(f"tally {' '.join(args)} exited {proc.returncode}\n{proc.stdout}\n{proc.stderr}")
    return proc


def write_api_calls_parquet(path: Path, count: int, subscription: str = "sub_a") -> None:
    """`count` API calls, one a minute from 2026-10-01 00:30 UTC; properties as a Parquet struct."""
    with duckdb.connect() as con:
        con.execute(f"""
            copy (
                select 'call_' || i as transaction_id, cast(null as varchar) as external_customer_id,
                       '{subscription}' as external_subscription_id, 'api_calls' as code,
                       timestamp '2026-10-01 00:30:00' + to_minutes(i) as timestamp,
                       {{'endpoint': 'chat'}} as properties
                from range({count}) t(i)
            ) to '{path}' (format parquet)
        """)


def copy_landing(name: str, dest: Path) -> Path:
    shutil.copytree(FIXTURES / name / "landing", dest)
    return dest


def rows(warehouse: Path, sql: str, params=None) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


def table_dump(warehouse: Path, schema: str = "billing") -> dict[str, list[tuple]]:
    """Every table of a schema, every row, in a stable order: for identity checks."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        tables = [t for (t,) in con.execute(
            "select table_name from information_schema.tables where table_schema = ? order by 1", [schema]).fetchall()]
        return {t: con.execute(f"select * from {schema}.{t} order by all").fetchall() for t in tables}
