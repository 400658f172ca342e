"""Billed worlds shared by several files. Each is billed once per pytest process (session
scope) and only read afterwards: a test that bills more works on a copy of its own. The files
that use one are listed in tests/conftest.py (SHARED_WORLDS), so that `make test` runs them on
the same xdist worker, which then bills the world once."""
from __future__ import annotations

import pytest

from tests.helpers import SMALL_API_CALLS, copy_landing, tally, write_api_calls_parquet


@pytest.fixture(scope="session")
def small_billed(tmp_path_factory, small_catalog) -> dict:
    """tests/fixtures/small plus 10,005 API calls for sub_a (Parquet), October 2026 billed and
    published (files and pages): the inputs of test_end_to_end, test_recovery's clean run and
    test_finalize's first run. Read it, never write to it."""
    base = tmp_path_factory.mktemp("small_billed")
    landing = copy_landing("small", base / "landing")
    write_api_calls_parquet(landing / "c_calls.parquet", SMALL_API_CALLS)
    warehouse = base / "w.duckdb"
    proc = tally("run", "--catalog", str(small_catalog), "--landing", str(landing),
                 "--warehouse", str(warehouse), "--period", "2026-10", "--publish", str(base / "published"))
    return {"base": base, "landing": landing, "warehouse": warehouse, "published": base / "published",
            "stdout": proc.stdout, "catalog": small_catalog}
