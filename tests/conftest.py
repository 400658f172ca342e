"""Two layers (see pyproject's markers and the Makefile):

- tests/unit: no warehouse billed, no `tally run`, no dbt invocation; the whole layer runs in
  seconds (`make test-fast`). Loading the Dagster definitions needs dbt's manifest, which
  `python -m orchestration.prepare` writes before pytest starts (a no-op when it is fresh).
- tests/e2e: everything that bills through `tally run`, Dagster or dbt; marked `e2e` by
  tests/e2e/conftest.py, which also holds the session-scoped billed worlds shared by files.

Helpers both layers use are in tests/helpers.py."""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import SMALL_CATALOG

E2E = Path(__file__).resolve().parent / "e2e"
# The billed worlds of tests/e2e/conftest.py that several files share, and those files: under
# xdist these files run on one worker, which bills the world once (session-scoped fixtures are
# per worker process). Every other file is a unit of its own, as with `--dist loadfile`.
SHARED_WORLDS = {
    "small_billed": ("tests/e2e/test_end_to_end.py", "tests/e2e/test_recovery.py",
                     "tests/e2e/test_finalize.py", "tests/e2e/test_explain.py"),
}
WORLD_OF_FILE = {path: world for world, paths in SHARED_WORLDS.items() for path in paths}
# The other files, longest first, by their time in `make test PYTEST_ARGS=--durations=0`
# (2026-12-07, seconds): xdist gives each worker its unit and one queued behind it, so a long file
# handed out late leaves the other worker idle at the end; longest first, the last units are the
# short ones (one file of tests/unit takes a second). A file not named here starts after these.
SLOW_FILES = ("tests/e2e/test_spark_parity.py",  # 318
              "tests/e2e/test_backfill.py",  # 140
              "tests/e2e/test_incremental.py",  # 112
              "tests/e2e/test_pay_in_advance.py",  # 86
              "tests/e2e/test_dbt_unit_tests.py",  # 75
              "tests/oracle/test_oracle.py",  # 73
              "tests/e2e/test_finalize_balances.py",  # 46
              "tests/e2e/test_current_usage.py",  # 45 (2026-12-07, issue 15)
              "tests/e2e/test_prorated.py",  # 44
              "tests/e2e/test_revenue.py",  # 43
              "tests/e2e/test_extend_pricing.py",  # 36
              "tests/e2e/test_fuzz_landing.py",  # 32
              "tests/e2e/test_conservation.py",  # 25
              "tests/e2e/test_money_invariants.py",  # 24
              "tests/e2e/test_invoice_pages.py",  # 24
              "tests/e2e/test_money.py")  # 22


def start_order(path: str) -> tuple[int, int]:
    if path in WORLD_OF_FILE:
        return 0, list(SHARED_WORLDS).index(WORLD_OF_FILE[path])
    if path in SLOW_FILES:
        return 1, SLOW_FILES.index(path)
    return (2 if path.startswith("tests/e2e/") else 3), 0


def pytest_collection_modifyitems(config, items):
    """Everything under tests/e2e is marked `e2e`; a test using a shared world must be in one of
    the world's files, else its worker would bill the world again. Files are put in start_order
    (a stable sort: within a file, and among files of one rank, collection order stays)."""
    items.sort(key=lambda item: start_order(item.nodeid.split("::", 1)[0]))
    for item in items:
        if E2E in Path(str(item.path)).resolve().parents:
            item.add_marker(pytest.mark.e2e)
        path = item.nodeid.split("::", 1)[0]
        for world in set(SHARED_WORLDS) & set(getattr(item, "fixturenames", ())):
            if WORLD_OF_FILE.get(path) != world:
                raise pytest.UsageError(f"{item.nodeid} uses {world}: add {path} to SHARED_WORLDS[{world!r}] "
                                        "in tests/conftest.py")


def pytest_xdist_make_scheduler(config, log):
    """`--dist loadfile`, except that the files of a shared world are one unit, and units are
    handed out in the order collected (start_order), not by their number of tests. (xdist's own
    `--dist loadgroup` does not group with pytest 9: xdist 3.8 renames `item._nodeid`, which
    pytest 9 no longer reads.)"""
    from xdist.scheduler import LoadScopeScheduling

    config.option.loadscopereorder = False

    class LoadFileAndSharedWorlds(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            path = nodeid.split("::", 1)[0]
            return WORLD_OF_FILE.get(path, path)

    return LoadFileAndSharedWorlds(config, log)


@pytest.fixture(scope="session")
def small_catalog() -> Path:
    return SMALL_CATALOG
