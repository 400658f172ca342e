"""A billing run's `dbt build` inside the `tally` process (dbt's `dbtRunner`), shown to dagster-dbt
as the subprocess it would otherwise start: dbt's JSON log lines on `stdout`, a return code.

Why: a run in its own process imported dbt a second time, parsed its log lines back from JSON and
paid an interpreter start: ~2 CPU-s of a small run's ~23, on every run (the suite runs ~75). In
this process dbt finds its modules loaded. dagster-dbt still turns each line into Dagster events,
selects the subset a UI materialization asks for and raises on a failed build, unchanged
(orchestration/defs/resources.py: TallyDbtResource.cli).

What the subprocess gave for free and is done here:
- the lines are the events dbt's stdout logger would print at its default level (info and up,
  and print events), as the dicts its JSON logger writes (`msg_to_dict`); dbt's own stdout
  logger is off (`--log-level none`), its file log stays;
- an error raised by dbt outside a node (a compile error, a bad profile) that dbt did not log
  becomes an error line with its message, which dagster-dbt puts in the error it raises;
- dbt-duckdb keeps its database open in a class attribute after the build: it is closed, so
  that the gate and the publisher, which open the warehouse next, are its only users;
- the warehouse's dbt parse state is seeded before and kept after (orchestration/lib/
  parse_state.py), as `tally-dbt` does around a dbt subprocess;
- a terminated Dagster run: dbt's Ctrl-C, a KeyboardInterrupt raised in dbt's thread, with the
  running queries cancelled (`send_signal`). As after a kill, nothing half-built is published:
  the build is marked finished only after dbt returns (orchestration/lib/build_state.py)."""
from __future__ import annotations

import contextlib
import ctypes
import queue
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import orjson

from orchestration.lib import parse_state

# the levels dbt's stdout logger prints at its default `--log-level info`
_PRINTED_LEVELS = frozenset({"info", "warn", "error"})
_END = None


class _Lines:
    """The `stdout` of the look-alike process: bytes lines, ending when dbt has returned."""

    closed = False

    def __init__(self, lines: queue.SimpleQueue):
        self._lines = lines

    def __iter__(self) -> Iterator[bytes]:
        while (line := self._lines.get()) is not _END:
            yield line

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.closed = True


class DbtInProcess:
    """What dagster-dbt's DbtCliInvocation uses of `subprocess.Popen`: `args`, `stdout`, `wait`,
    `returncode`, `send_signal`. dbt starts on a thread of its own at once."""

    def __init__(self, args: list[str], target_path: Path, project_dir: Path, warehouse: str | None):
        self.args = args
        self.returncode: int | None = None
        self._errors = 0
        self._lines: queue.SimpleQueue = queue.SimpleQueue()
        self.stdout = _Lines(self._lines)
        self._target, self._project, self._warehouse = target_path, project_dir, warehouse
        self._thread = threading.Thread(target=self._run, name="dbt", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        code = 2
        try:
            from dbt.cli.main import dbtRunner

            _cheap_behavior_flag_source()

            state = (parse_state.for_warehouse(self._target, self._project, self._warehouse)
                     if self._warehouse else contextlib.nullcontext())
            with state:
                result = dbtRunner(callbacks=[self._event]).invoke(self.args)
            if result.exception is not None and not self._errors:  # dbt said nothing of it
                self._error(f"dbt stopped: {type(result.exception).__name__}: {result.exception}")
            if result.exception is None:
                code = 0 if result.success else 1
        except BaseException as exc:  # noqa: BLE001 - it must reach dagster-dbt, not end the thread
            self._error(f"dbt could not run: {type(exc).__name__}: {exc}")
        finally:
            _close_duckdb()
            self.returncode = code
            self._lines.put(_END)

    def _event(self, msg) -> None:
        if msg.info.level in _PRINTED_LEVELS or msg.info.name == "PrintEvent":
            self._errors += msg.info.level == "error"
            from dbt_common.events.functions import msg_to_dict

            self._lines.put(orjson.dumps(msg_to_dict(msg), default=str))

    def _error(self, text: str) -> None:
        self._lines.put(orjson.dumps({"info": {"name": "MainEncounteredError", "level": "error", "msg": text},
                                      "data": {}}))

    def wait(self, timeout: float | None = None) -> int | None:
        self._thread.join(timeout)
        return self.returncode

    def send_signal(self, _signal) -> None:
        """Stop dbt as Ctrl-C stops it in its own process: a KeyboardInterrupt in the thread that
        runs dbt (dbt then marks the build interrupted and returns), and DuckDB's running queries
        cancelled, which is what wakes that thread. dagster-dbt calls this when the Dagster run
        is terminated."""
        if self._thread.is_alive() and self._thread.ident is not None:
            ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(self._thread.ident),
                                                       ctypes.py_object(KeyboardInterrupt))
            _cancel_queries()


def _close_duckdb() -> None:
    from dbt.adapters.duckdb.connections import DuckDBConnectionManager as manager

    with manager._LOCK:
        if manager._ENV is not None:
            manager._ENV.close()
            manager._ENV = None


def _cancel_queries() -> None:
    from dbt.adapters.factory import FACTORY

    for adapter in list(FACTORY.adapters.values()):
        adapter.cancel_open_connections()


def _caller_module() -> str:
    """The module that made the behavior flag: the first frame outside dbt_common.behavior_flags."""
    frame = sys._getframe(1)
    while frame is not None:
        name = frame.f_globals.get("__name__")
        if name and name != "dbt_common.behavior_flags":
            return name
        frame = frame.f_back
    return "Unknown"


def _cheap_behavior_flag_source() -> None:
    """dbt-common names the source of each adapter behavior flag with `inspect.stack()`, which reads
    the source lines of every frame on the stack: under Dagster's deep stack, 0.7 s of every build
    (py-spy). The same name, read from the frames' globals."""
    from dbt_common.behavior_flags import BehaviorFlagRendered

    BehaviorFlagRendered._default_source = staticmethod(_caller_module)
