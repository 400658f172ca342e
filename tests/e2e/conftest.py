"""Billed worlds shared by several files. Each is billed once per pytest process (session
scope) and only read afterwards: a test that bills more works on its own copy. Files that
use one carry `pytest.mark.xdist_group` with the fixture's name, so that `make test`
(`--dist loadgroup`) runs them on the same worker, which then bills the world once."""
from __future__ import annotations

import pytest

from tests.helpers import copy_landing, tally, write_api_calls_parquet

SMALL_API_CALLS = 10_005


@pytest.fixture(scope="session")
def small_billed(tmp_path_factory, small_catalog) -> dict:
    """tests/fixtures/small plus 10,005 API calls for sub_a (Parquet), October 2026 billed and
    published (files and pages): the inputs of test_end_to_end, test_recovery's clean run and
    test_finalize's first run. Read it, never write to it."""
    base = tmp_path_factory.mktemp("small_billed")
    landing = copy_landing("small", base / "landing")
    write_api_calls_parquet(landing / "c_calls.parquet", SMALL_API_CALLS)
    warehouse = base / "w.duckdb"
    proc = tally("run", "--catalog", str(small_catalog), "--landing", str(landing), "--warehouse", str(warehouse),
                 "--period", "2026-10", "--publish", str(base / "published"))
    return {"base": base, "landing": landing, "warehouse": warehouse, "published": base / "published",
            "stdout": proc.stdout, "catalog": small_catalog}
