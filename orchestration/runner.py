"""`tally run`: the Dagster assets materialized in process, then a summary.

Two materializations, both through Dagster: first the unpartitioned inputs (catalog, landing),
then the billing months as one partition range (one dbt build, then publishing). Where things
live reaches the assets as the `paths` resource (TallyPaths), built from the command's options."""
from __future__ import annotations

import os
from contextlib import nullcontext
from datetime import date
from pathlib import Path

import duckdb

from orchestration.catalog import CatalogError
from orchestration.lib.months import month_start, months_between, next_month
from orchestration.lib.warehouse import connect, warehouse_lock
from orchestration.lib.window import RANGE_END_TAG, RANGE_START_TAG, partition_key
from orchestration.summary import Summary, summarize

# Dagster's console logger at ERROR: the CLI prints its own progress and summary.
QUIET = {"loggers": {"console": {"config": {"log_level": "ERROR"}}}}


class RunError(Exception):
    """A run that cannot go on; the message says why, for people."""


def parse_month(text: str) -> date:
    try:
        year, month = text.split("-")
        return date(int(year), int(month), 1)
    except ValueError:
        raise RunError(f"{text!r} is not a month; use YYYY-MM") from None


def event_months(con: duckdb.DuckDBPyConnection, today: date) -> list[date]:
    """Months holding landed event instants (typed at landing), up to this month."""
    row = con.execute("""
        select min(event_at), max(event_at) from raw.events
        where rejection_reason is null and event_at >= timestamp '2000-01-01' and event_at < ?
    """, [next_month(today)]).fetchone()
    if row[0] is None:
        return []
    return months_between(row[0].date(), row[1].date())


def _unwrap(exc: BaseException) -> BaseException:
    seen = exc
    while seen.__cause__ is not None:
        seen = seen.__cause__
    return seen


def run(catalog: Path, landing: Path, warehouse: Path, months: list[date] | None, publish: Path | None,
        progress=lambda msg: None, today: date | None = None, locked: bool = False,
        pages: bool = True, pdf: bool = False) -> Summary:
    """Bill the months; `locked` when the caller already holds the warehouse lock."""
    catalog, landing, warehouse = Path(catalog).resolve(), Path(landing).resolve(), Path(warehouse).resolve()
    if not catalog.is_dir():
        raise RunError(f"catalog folder {catalog} does not exist")
    if not landing.is_dir():
        raise RunError(f"landing folder {landing} does not exist")
    with nullcontext() if locked else warehouse_lock(warehouse):
        progress("Loading Dagster definitions")
        resources = _resources(catalog, landing, warehouse, publish)
        instance = _instance()
        if months:
            # the months are known: one Dagster run loads the inputs and bills them
            first, last = months[0], months[-1]
            progress(f"Validating catalog {catalog}, landing new files from {landing}, billing "
                     f"{first:%Y-%m} to {last:%Y-%m}: dbt build, tests, publish")
            _bill(instance, resources, first, last, pages, with_inputs=True, pdf=pdf)
        else:
            progress(f"Validating catalog {catalog} and landing new files from {landing}")
            _load_inputs(instance, resources)
            with connect(warehouse) as con:
                wanted = event_months(con, today or date.today())
            if not wanted:
                raise RunError(f"no events in {landing} and no --period given: nothing to bill")
            first, last = wanted[0], wanted[-1]
            progress(f"Billing {first:%Y-%m} to {last:%Y-%m}: dbt build, tests, publish")
            _bill(instance, resources, first, last, pages, pdf=pdf)
        with connect(warehouse) as con:
            return summarize(con, first, last)


def refresh(catalog: Path, landing: Path, warehouse: Path, publish: Path | None, today: date,
            pages: bool = True, locked: bool = False) -> None:
    """The refresh_current_usage job in process (what the new_landing_files sensor starts): new
    files, their daily meters, every open period so far, the usage alerts, the pages."""
    from dagster import materialize

    from orchestration.defs.current_usage import REFRESH_ASSETS, REFRESH_SELECTION, current_usage
    catalog, landing, warehouse = Path(catalog).resolve(), Path(landing).resolve(), Path(warehouse).resolve()
    for name, folder in (("catalog", catalog), ("landing", landing)):
        if not folder.is_dir():
            raise RunError(f"{name} folder {folder} does not exist")
    with nullcontext() if locked else warehouse_lock(warehouse):
        run_config = {**QUIET, "ops": {current_usage.op.name: {"config": {"pages": pages}}}}
        try:
            result = materialize(list(REFRESH_ASSETS), selection=REFRESH_SELECTION,
                                 partition_key=partition_key(month_start(today)), instance=_instance(),
                                 resources=_resources(catalog, landing, warehouse, publish), run_config=run_config,
                                 raise_on_error=False)
        except Exception as exc:
            raise RunError(f"refresh failed: {_unwrap(exc)}") from exc
        if not result.success:
            raise RunError(failure_message(result))


def _resources(catalog: Path, landing: Path, warehouse: Path, publish: Path | None) -> dict:
    """The definitions' resources, with the paths of this run (no --publish: TallyPaths' fallback)."""
    from orchestration.definitions import defs
    from orchestration.defs.resources import TallyPaths
    paths = TallyPaths(warehouse=str(warehouse), catalog=str(catalog), landing=str(landing),
                       publish=None if publish is None else str(Path(publish).resolve()))
    return {**defs.resources, "paths": paths}


def _instance():
    from dagster import DagsterInstance
    return DagsterInstance.get() if os.environ.get("DAGSTER_HOME") else DagsterInstance.ephemeral()


def _load_inputs(instance, resources: dict) -> None:
    """The unpartitioned inputs: catalog/* and raw/*, one run."""
    from dagster import materialize

    from orchestration.defs.catalog import pricing_catalog
    from orchestration.defs.landing import landed_events
    try:
        materialize([pricing_catalog, landed_events], instance=instance, resources=resources, run_config=QUIET)
    except Exception as exc:  # Dagster wraps the asset's own error
        root = _unwrap(exc)
        if isinstance(root, CatalogError):
            raise RunError(str(root)) from None
        raise RunError(f"loading failed: {root}") from exc


def _bill(instance, resources: dict, first: date, last: date, pages: bool, with_inputs: bool = False,
          pdf: bool = False) -> None:
    """The billing months [first, last] as one partition range: dbt build, checks, publish;
    `with_inputs`: the catalog and the landing first, in the same run."""
    from dagster import AssetSelection, materialize

    from orchestration.defs.catalog import pricing_catalog
    from orchestration.defs.checks import great_expectations_gates
    from orchestration.defs.dbt import billing_models
    from orchestration.defs.landing import landed_events
    from orchestration.defs.partitions import FIRST_MONTH
    from orchestration.defs.publish import published_billing
    if partition_key(first) < FIRST_MONTH:
        raise RunError(f"{first:%Y-%m} is before the first billing month, TALLY_FIRST_MONTH={FIRST_MONTH}")
    tags = {RANGE_START_TAG: partition_key(first), RANGE_END_TAG: partition_key(last)}
    run_config = {**QUIET, "ops": {published_billing.op.name: {"config": {"pages": pages, "pdf": pdf}}}}
    inputs = (pricing_catalog, landed_events) if with_inputs else ()
    try:
        result = materialize([billing_models, published_billing, pricing_catalog, landed_events,
                              great_expectations_gates],
                             selection=AssetSelection.assets(billing_models, published_billing, *inputs),
                             instance=instance, resources=resources, tags=tags, run_config=run_config,
                             raise_on_error=False)
    except Exception as exc:
        raise RunError(f"billing run failed: {_unwrap(exc)}") from exc
    if not result.success:
        raise RunError(failure_message(result))


def _root_error(error):
    """The innermost cause of a step's serialized error (Dagster wraps the asset's own)."""
    while error is not None and error.cause is not None:
        error = error.cause
    return error


def failure_message(result) -> str:
    """Why a billing run stopped: the failed Great Expectations suites first (they block
    publishing), else the first failed step's error."""
    from dagster import AssetCheckSeverity
    failed = [e for e in result.get_asset_check_evaluations()
              if not e.passed and e.severity == AssetCheckSeverity.ERROR]
    if failed:
        lines = [f"  {e.check_name} on {'/'.join(e.asset_key.path)}: {e.description}" for e in failed]
        return ("publishing blocked by Great Expectations; the previous publication is unchanged.\n"
                + "\n".join(lines))
    for event in result.all_events:
        if event.is_step_failure:
            root = _root_error(event.step_failure_data.error)
            if root is not None and root.cls_name == CatalogError.__name__:
                return root.message.split(": ", 1)[-1].strip()
            return f"billing run failed in {event.step_key}: {root.message.strip() if root else 'unknown error'}"
    return "billing run failed"
