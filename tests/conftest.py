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


@pytest.hookimpl(tryfirst=True)  # before xdist reads the groups
def pytest_collection_modifyitems(config, items):
    """Everything under tests/e2e is marked `e2e`. Every test without an `xdist_group` is put in
    its file's group, so `--dist loadgroup` keeps a file on one worker (as `--dist loadfile`
    did, for its module-scoped fixtures) while named groups span files."""
    for item in items:
        if E2E in Path(str(item.path)).resolve().parents:
            item.add_marker(pytest.mark.e2e)
        if item.get_closest_marker("xdist_group") is None:
            item.add_marker(pytest.mark.xdist_group(item.nodeid.split("::", 1)[0]))


@pytest.fixture(scope="session")
def small_catalog() -> Path:
    return SMALL_CATALOG
