"""`tally-dbt` (pyproject's script): dbt's own command line, as the `dbt` script runs it, for the
dbt builds dagster-dbt starts as subprocesses (orchestration/defs/resources.py) and the parse of
`orchestration.prepare`, ending the process as soon as dbt has returned
(orchestration/lib/quick_exit.py). A new warehouse starts from the parse state saved for its
name (orchestration/lib/parse_state.py)."""
from __future__ import annotations

import atexit
import os
import sys
import time
from pathlib import Path

from orchestration.lib import parse_state
from orchestration.lib.quick_exit import run_and_exit


def main() -> None:
    from dbt.cli.main import cli

    parse_state.leave_path_out_of_the_profile_hash()
    target, warehouse = os.environ.get("DBT_TARGET_PATH"), os.environ.get("TALLY_WAREHOUSE")
    if target and warehouse and "spark" not in sys.argv:
        from orchestration.paths import DBT_PROJECT_DIR

        started, database = time.time(), parse_state.database_name(warehouse)
        parse_state.seed(Path(target), DBT_PROJECT_DIR, database)

        def keep() -> None:
            state = Path(target) / parse_state.STATE_FILE
            if state.exists() and state.stat().st_mtime >= started:  # dbt parsed (part of) it again
                parse_state.keep(Path(target), DBT_PROJECT_DIR, database)

        atexit.register(keep)
    run_and_exit(cli)


if __name__ == "__main__":
    main()
