"""`tally-dbt` (pyproject's script): dbt's own command line, as the `dbt` script runs it, for the
dbt builds dagster-dbt starts as subprocesses (orchestration/defs/resources.py), ending the
process as soon as dbt has returned (orchestration/lib/quick_exit.py)."""
from __future__ import annotations

from orchestration.lib.quick_exit import run_and_exit


def main() -> None:
    from dbt.cli.main import cli
    run_and_exit(cli)


if __name__ == "__main__":
    main()
