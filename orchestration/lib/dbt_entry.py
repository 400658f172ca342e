"""`tally-dbt` (pyproject's script): dbt's own command line, as the `dbt` script runs it, for the
parse of `orchestration.prepare`, ending the process as soon as dbt has returned
(orchestration/lib/quick_exit.py). Billing runs call dbt in their own process
(orchestration/lib/dbt_in_process.py). Given a target folder and a warehouse (DBT_TARGET_PATH,
TALLY_WAREHOUSE), it starts from the parse state saved for the warehouse's name
(orchestration/lib/parse_state.py)."""
from __future__ import annotations

import atexit
import contextlib
import os
import sys
from pathlib import Path

from orchestration.lib import parse_state
from orchestration.lib.quick_exit import run_and_exit


def main() -> None:
    from dbt.cli.main import cli

    parse_state.leave_path_out_of_the_profile_hash()
    target, warehouse = os.environ.get("DBT_TARGET_PATH"), os.environ.get("TALLY_WAREHOUSE")
    if target and warehouse and "spark" not in sys.argv:
        from orchestration.paths import DBT_PROJECT_DIR

        state = parse_state.for_warehouse(Path(target), DBT_PROJECT_DIR, warehouse)
    else:
        state = contextlib.nullcontext()
    # run_and_exit ends the process without unwinding: the state is kept by an exit handler
    stack = contextlib.ExitStack()
    stack.enter_context(state)
    atexit.register(stack.close)
    run_and_exit(cli)


if __name__ == "__main__":
    main()
