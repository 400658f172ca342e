"""The engines a billing run can use (issue 14): `duckdb` (the default: one DuckDB file, the
Dagster assets of orchestration/defs) and `spark` (a Spark session, orchestration/engines/spark).

The seams are the steps outside dbt: land files, load the catalog, run dbt, run the Great
Expectations gate's queries, publish (merge into `billing`, write files), finalize. The dbt
models are the same on both (adapter dispatch). The DuckDB steps are the modules they always
were (orchestration/landing.py, catalog, publish.py, finalize.py); the Spark ones mirror them."""
from __future__ import annotations

ENGINES = ("duckdb", "spark")
DEFAULT_ENGINE = "duckdb"
