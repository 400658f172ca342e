"""One writer per warehouse (issue 11, item 4): every Dagster asset that writes the warehouse
takes its lock, so a Dagster materialization cannot write under a running `tally run` (or the
other way round); within one process the lock is re-entrant, as `tally run` holds it around the
Dagster run it executes in process."""
from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest
from dagster import materialize

from orchestration.defs.catalog import pricing_catalog
from orchestration.defs.landing import landed_events
from orchestration.defs.resources import TallyPaths
from orchestration.lib.warehouse import WarehouseInUse, warehouse_lock
from tests.helpers import SMALL_CATALOG

HOLD = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from orchestration.lib.warehouse import warehouse_lock
    with warehouse_lock(Path(sys.argv[1])):
        print("held", flush=True)
        sys.stdin.read()
""")


@pytest.fixture
def held_elsewhere(tmp_path):
    """The warehouse's lock held by another process (as a running `tally run` holds it)."""
    warehouse = tmp_path / "w.duckdb"
    proc = subprocess.Popen([sys.executable, "-c", HOLD, str(warehouse)], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "held"
    yield warehouse
    proc.communicate("")


def test_the_lock_is_reentrant_in_one_process_and_released_after(tmp_path):
    warehouse = tmp_path / "w.duckdb"
    with warehouse_lock(warehouse), warehouse_lock(warehouse):
        pass
    # released: another process takes it
    done = subprocess.run([sys.executable, "-c", HOLD, str(warehouse)], input="", capture_output=True, text=True,
                          check=False)
    assert done.stdout.strip() == "held"


def test_another_process_is_refused(held_elsewhere):
    with pytest.raises(WarehouseInUse, match="another tally run is using"), warehouse_lock(held_elsewhere):
        pass


@pytest.mark.parametrize("asset", [landed_events, pricing_catalog], ids=["landing", "catalog"])
def test_a_dagster_materialization_under_a_running_run_is_refused(held_elsewhere, tmp_path, asset):
    (tmp_path / "landing").mkdir()
    paths = TallyPaths(warehouse=str(held_elsewhere), catalog=str(SMALL_CATALOG), landing=str(tmp_path / "landing"),
                       publish=str(tmp_path / "published"))
    with pytest.raises(WarehouseInUse):
        materialize([asset], resources={"paths": paths})
    assert not held_elsewhere.exists()  # nothing was written
