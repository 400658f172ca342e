"""Crash points, for the recovery tests only (tests/e2e/test_recovery.py).

`TALLY_CRASH_AT=<point>:<n>` makes the process SIGKILL itself, as `kill -9` would, the n-th time
it reaches the crash point of that name (n defaults to 1). Without the variable `crash_point`
returns at once and does nothing. The points, in the order a run meets them:

  landing   a landing file's rows written, not committed; then the file committed
  dbt       a dbt node finished (each event dagster-dbt streams: the build goes on in dbt)
  gx        the gate's rows read; each suite validated; Data Docs built, not swapped in
  publish   each `billing` table merged, not committed; then the transaction committed
  files     a month's files written, not swapped in; then swapped in
  swap      a folder swap between its two renames (Data Docs, a month, the pages)
  finalize  each step of the finalize transaction, not committed; then committed

The process kills its whole process group when it leads one (the run and anything it started, as a
`kill -9` of the group), else itself; it first says where on the real stderr.
"""
from __future__ import annotations

import os
import signal
import sys

CRASH_ENV = "TALLY_CRASH_AT"
_reached: dict[str, int] = {}


def crash_point(name: str, where: str) -> None:
    spec = os.environ.get(CRASH_ENV)
    if not spec:
        return
    point, _, nth = spec.partition(":")
    if point != name:
        return
    _reached[name] = _reached.get(name, 0) + 1
    if _reached[name] != int(nth or 1):
        return
    sys.__stderr__.write(f"{CRASH_ENV}={spec}: SIGKILL at {name} point {_reached[name]}: {where}\n")
    sys.__stderr__.flush()
    if os.getpgrp() == os.getpid():
        os.killpg(os.getpgrp(), signal.SIGKILL)
    os.kill(os.getpid(), signal.SIGKILL)
