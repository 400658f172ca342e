"""`python -m orchestration.first_month WAREHOUSE`: the month of the earliest landed event
(YYYY-MM), or nothing. `make dagster` starts the UI's billing months there (TALLY_FIRST_MONTH),
so the month picker holds the months that exist."""
from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

import duckdb

from orchestration.runner import event_months


def first_month(warehouse: Path, today: date) -> str | None:
    if not warehouse.exists():
        return None
    with duckdb.connect(str(warehouse), read_only=True) as con:
        if not con.execute("select count(*) from information_schema.tables "
                           "where table_schema = 'raw' and table_name = 'events'").fetchone()[0]:
            return None
        months = event_months(con, today)
    return f"{months[0]:%Y-%m}" if months else None


if __name__ == "__main__":
    print(first_month(Path(sys.argv[1]), date.today()) or "")
