"""`tally-dbt` (pyproject's script): dbt's own command line, as the `dbt` script runs it, for the
dbt builds dagster-dbt starts as subprocesses (orchestration/defs/resources.py), ending the
process as soon as dbt has returned. Python's teardown of dbt's interpreter took ~0.6 s after
every build had written its results; the output is flushed and the exit handlers run first."""
from __future__ import annotations

import atexit
import contextlib
import os
import sys


def main() -> None:
    from dbt.cli.main import cli
    try:
        cli()
        code = 0
    except SystemExit as exc:
        code = exc.code
    if code is not None and not isinstance(code, int):
        print(code, file=sys.stderr)
        code = 1
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):  # a reader that went away (`| head`) is no error here
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    os._exit(code or 0)


if __name__ == "__main__":
    main()
