"""The resources the assets get: where a run reads and writes (TallyPaths), and the dbt CLI."""
from __future__ import annotations

import os
import shutil
from collections.abc import Sequence
from functools import cached_property
from pathlib import Path

from dagster import ConfigurableResource
from dagster_dbt import DbtCliResource, DbtProject
from dagster_dbt.asset_utils import (
    DBT_INDIRECT_SELECTION_ENV,
    extract_runtime_selection_from_args,
    get_updated_cli_invocation_params_for_context,
)
from dagster_dbt.core.dbt_cli_invocation import DbtCliInvocation
from dagster_dbt.dagster_dbt_translator import DagsterDbtTranslator
from dbt.version import __version__ as DBT_VERSION
from packaging import version
from pydantic import Field

from orchestration.lib.dbt import WAREHOUSE_ENV
from orchestration.lib.dbt_in_process import DbtInProcess
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
    """dagster-dbt's CLI resource with dbt run in this process (orchestration/lib/dbt_in_process.py)
    and without two fixed costs of every build: it runs `dbt --version` in a subprocess to learn
    the version of the dbt-core installed beside it, and builds a dbt adapter in process for
    metadata queries Tally does not make (seconds each, per run)."""

    def cli(self, args: Sequence[str], *, raise_on_error: bool = True, manifest=None,
            dagster_dbt_translator: DagsterDbtTranslator | None = None, context=None,
            target_path: Path | None = None) -> DbtCliInvocation:
        """dagster-dbt's `cli` (the subset of a UI materialization, its target folder, its events
        and errors), with dbt in this process: the flags dagster-dbt passes in environment
        variables are passed as dbt options."""
        translator = dagster_dbt_translator or DagsterDbtTranslator()
        cleaned, selects, excludes = extract_runtime_selection_from_args(args)
        params = get_updated_cli_invocation_params_for_context(
            context=context, manifest=manifest or {}, dagster_dbt_translator=translator,
            runtime_selects=selects, runtime_excludes=excludes)
        project_dir = Path(params.dbt_project.project_dir if params.dbt_project else self.project_dir)
        target = target_path or self._get_unique_target_path(context=context)
        target = target if target.is_absolute() else project_dir / target
        # dbt's partial parse: a new target folder starts from the project's state (as dagster-dbt)
        project_state, state = project_dir / "target" / "partial_parse.msgpack", target / "partial_parse.msgpack"
        if project_state.exists() and not state.exists():
            target.mkdir(parents=True, exist_ok=True)
            shutil.copy(project_state, state)
        indirect = params.indirect_selection or os.environ.get(DBT_INDIRECT_SELECTION_ENV)
        dbt_args = [*self.global_config_flags, *cleaned,
                    *(["--profile", self.profile] if self.profile else []),
                    *(["--target", self.target] if self.target else []),
                    *params.selection_args, *(["--indirect-selection", indirect] if indirect else []),
                    "--project-dir", str(project_dir), "--profiles-dir", str(self.profiles_dir or project_dir),
                    "--target-path", str(target), "--log-path", str(target), "--log-level", "none", "--no-use-colors"]
        process = DbtInProcess(dbt_args, target, project_dir, os.environ.get(WAREHOUSE_ENV))
        return DbtCliInvocation(process=process, manifest=params.manifest,
                                dagster_dbt_translator=params.dagster_dbt_translator, project_dir=project_dir,
                                target_path=target, raise_on_error=raise_on_error, context=context,
                                adapter=None, cli_version=self._cli_version, project=params.dbt_project)

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
