"""The resources the assets get: where a run reads and writes (TallyPaths), and the dbt CLI."""
from __future__ import annotations

import os
from functools import cached_property
from pathlib import Path

from dagster import ConfigurableResource
from dagster_dbt import DbtCliResource, DbtProject
from dbt.version import __version__ as DBT_VERSION
from packaging import version
from pydantic import Field

from orchestration.paths import (
    DBT_PROJECT_DIR,
    DEFAULT_CATALOG,
    DEFAULT_LANDING,
    DEFAULT_PUBLISH,
    DEFAULT_WAREHOUSE,
)
from orchestration.prepare import dbt_executable

dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)


def _resolve(value: str | None, env: str, default: Path) -> Path:
    return Path(value if value else os.environ.get(env, str(default))).resolve()


class TallyPaths(ConfigurableResource):
    """The warehouse file and the catalog, landing and publish folders. `tally run` sets every
    field from its options; an unset field falls back to its TALLY_* variable (set by `make
    dagster` and by whoever runs the Dagster CLI), then to the repository default. The fallback
    is read when a run uses the path, not when the definitions load."""

    warehouse: str | None = Field(default=None, description="DuckDB file (else TALLY_WAREHOUSE)")
    catalog: str | None = Field(default=None, description="pricing catalog folder (else TALLY_CATALOG)")
    landing: str | None = Field(default=None, description="landing folder of event files (else TALLY_LANDING)")
    publish: str | None = Field(default=None, description="published files folder (else TALLY_PUBLISH)")

    def warehouse_path(self) -> Path:
        return _resolve(self.warehouse, "TALLY_WAREHOUSE", DEFAULT_WAREHOUSE)

    def catalog_path(self) -> Path:
        return _resolve(self.catalog, "TALLY_CATALOG", DEFAULT_CATALOG)

    def landing_path(self) -> Path:
        return _resolve(self.landing, "TALLY_LANDING", DEFAULT_LANDING)

    def publish_path(self) -> Path:
        return _resolve(self.publish, "TALLY_PUBLISH", DEFAULT_PUBLISH)


class TallyDbtResource(DbtCliResource):
    """dagster-dbt's CLI resource without two fixed costs of every build: it runs `dbt --version`
    in a subprocess to learn the version of the dbt-core installed beside it, and builds a dbt
    adapter in process for metadata queries Tally does not make (seconds each, per run)."""

    @cached_property
    def _cli_version(self) -> version.Version:
        return version.parse(DBT_VERSION)

    def _initialize_dbt_core_adapter(self, args):  # no column or row-count metadata is fetched
        return None


def resources() -> dict:
    return {
        "dbt": TallyDbtResource(project_dir=dbt_project, profiles_dir=str(DBT_PROJECT_DIR),
                              dbt_executable=dbt_executable()),
        "paths": TallyPaths(),
    }
