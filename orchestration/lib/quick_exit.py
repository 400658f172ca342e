"""Run a click command line and end the process as soon as it returns. With Dagster, dbt and GX
loaded, Python's teardown of the interpreter (freeing every module) took ~1.8 s after `tally`
had printed its last line and ~0.5 s after a dbt build had written its results; nothing a command
needs happens there. Output is flushed and the exit handlers (logging's among them) run first.
An uncaught error is not caught here: it ends the process as usual, with its traceback."""
from __future__ import annotations

import atexit
import contextlib
import os
import sys
from collections.abc import Callable


def run_and_exit(command: Callable[[], object]) -> None:
    try:
        command()
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
