"""Tally on Apache Spark: `tally run --engine spark`, `tally finalize --engine spark`.

One process, one Spark session (dbt-spark `method: session`, the `spark` output of
dbt_project/profiles.yml): the session is opened by dbt, with the profile's settings, and the
Python steps use the same session, so a local Derby metastore (one process at a time) serves
dbt and them. Dagster is not in the loop: its dbt step runs dbt in a subprocess, which cannot
share the session (docs/decisions.md, section 19).

Where the run keeps its tables: `<warehouse>.spark/` (metastore_db/ and warehouse/), beside the
path given as --warehouse, which holds no data itself (its `.lock` serializes runs as on DuckDB).
"""
