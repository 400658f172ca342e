"""What one `dbt build` of a billing run is: its CLI arguments, its target folder and the
window it builds. Kept free of Dagster so the tests can pin it down exactly."""
from __future__ import annotations

import hashlib
import os
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from orchestration.lib.window import partition_window

# unit tests run in the test suite; a billing run builds models and their data tests. dbt's log
# file keeps warnings and errors only: at its default (debug, every statement) each small run
# added 5 MB to the warehouse's target folder
BUILD_ARGS = ("build", "--exclude", "test_type:unit", "--log-level-file", "warn")
# dbt_project/profiles.yml reads the warehouse file from this variable
WAREHOUSE_ENV = "TALLY_WAREHOUSE"


@dataclass(frozen=True)
class DbtBuild:
    args: list[str]
    target_path: Path
    # goes in as the table raw.billing_window, not --vars: changed vars make dbt parse the
    # whole project again
    window: dict[str, str]


def target_path(project_dir: Path, warehouse: Path) -> Path:
    """One target folder per warehouse: dbt's partial parse state is only valid for the profile
    (the warehouse path) it was parsed with, so a warehouse's next run skips the full parse."""
    digest = hashlib.sha1(str(warehouse).encode()).hexdigest()[:16]
    return project_dir / "target" / "warehouses" / digest


def dbt_build(start: datetime, end: datetime, warehouse: Path, project_dir: Path) -> DbtBuild:
    """The build of the partition range [start, end) on `warehouse` (an absolute path)."""
    return DbtBuild(args=list(BUILD_ARGS), target_path=target_path(project_dir, warehouse),
                    window=partition_window(start, end))


@contextmanager
def profile_env(warehouse: Path):
    """dbt finds the warehouse through its profile's env_var: set it
    for the time of the call, then put back what was there."""
    before = os.environ.get(WAREHOUSE_ENV)
    os.environ[WAREHOUSE_ENV] = str(warehouse)
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(WAREHOUSE_ENV, None)
        else:
            os.environ[WAREHOUSE_ENV] = before
