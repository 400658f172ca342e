"""The candidate rated by the billing models themselves: dbt builds every model again with
TALLY_SCHEMA_PREFIX=simulation_, which puts each schema the build writes beside the real one
(simulation_staging, simulation_intermediate, simulation_marts, simulation_reference) and reads
the catalog from simulation_catalog and the window from simulation_raw. The landed events
(raw.events) are read, never written.

The simulation schemas are dropped first: every simulation is a full build of its months, as
a fresh warehouse would bill them (no incremental state, no finalized invoices: a simulation
asks what the candidate would have billed). dbt runs in a process of its own, with its own
target folder and without partial parsing: the schema names are decided at parse time, and
a parse saved by a billing run must never be reused by a simulation (or the reverse)."""
from __future__ import annotations

import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import duckdb

from orchestration import catalog as catalog_loader
from orchestration.lib.dbt import BUILD_ARGS, WAREHOUSE_ENV, target_path
from orchestration.lib.months import next_month
from orchestration.paths import DBT_PROJECT_DIR

PREFIX = "simulation_"
PREFIX_ENV = "TALLY_SCHEMA_PREFIX"


class SimulationError(Exception):
    """A simulation that cannot go on; the message says why."""


def simulation_schemas(con: duckdb.DuckDBPyConnection) -> list[str]:
    return [r[0] for r in con.execute(
        "select schema_name from information_schema.schemata where starts_with(schema_name, ?) "
        "and catalog_name = current_database() order by 1", [PREFIX]).fetchall()]


def load_candidate(con: duckdb.DuckDBPyConnection, folder: Path, first: date, last: date) -> list[str]:
    """A clean slate: the previous simulation's schemas dropped, the candidate catalog in
    simulation_catalog, the window [first, last] in simulation_raw.billing_window. Returns the
    catalog's warnings."""
    cat = catalog_loader.validate(folder)
    con.execute("begin transaction")
    for schema in simulation_schemas(con):
        con.execute(f'drop schema "{schema}" cascade')
    con.execute("commit")
    catalog_loader.write(con, cat, prefix=PREFIX)
    con.execute(f"create or replace table {PREFIX}raw.billing_window (billing_from date, billing_to date)")
    con.execute(f"insert into {PREFIX}raw.billing_window values (?, ?)", [first, next_month(last)])
    return cat.warnings


def build(warehouse: Path, log=lambda line: None) -> None:
    """dbt build of every model (and its data tests) into the simulation schemas."""
    target = target_path(DBT_PROJECT_DIR, warehouse) / "simulation"
    env = {**os.environ, WAREHOUSE_ENV: str(warehouse), PREFIX_ENV: PREFIX,
           "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    dbt = str(Path(sys.executable).with_name("dbt"))
    args = [dbt, *BUILD_ARGS, "--no-partial-parse", "--profiles-dir", str(DBT_PROJECT_DIR),
            "--project-dir", str(DBT_PROJECT_DIR), "--target-path", str(target),
            "--log-path", str(target / "logs")]
    proc = subprocess.run(args, cwd=DBT_PROJECT_DIR, env=env, capture_output=True, text=True, check=False)
    for line in proc.stdout.splitlines():
        log(line)
    if proc.returncode != 0:
        failed = [ln for ln in proc.stdout.splitlines() if "ERROR" in ln or "FAIL" in ln or "Error" in ln]
        raise SimulationError("the candidate's dbt build failed:\n" + "\n".join(failed[-15:] or
                                                                              proc.stdout.splitlines()[-15:]))
