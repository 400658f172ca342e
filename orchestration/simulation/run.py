"""One simulation, step by step: the candidate catalog, its dbt build, the diff tables, the
report. Shared by `tally simulate` and the `simulate_pricing` Dagster job; the caller holds the
warehouse lock."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import yaml

from orchestration.catalog import CatalogError
from orchestration.lib.months import months_between
from orchestration.lib.warehouse import connect, table_exists
from orchestration.paths import DBT_PROJECT_DIR
from orchestration.simulation import candidate as candidates
from orchestration.simulation import diff, rating, report
from orchestration.simulation.rating import SimulationError


@dataclass
class Outcome:
    overlay: bool
    changed: tuple[str, ...]
    warnings: list[str]
    text: str                          # the printed summary
    report: Path | None = None
    unbilled_months: list[date] = field(default_factory=list)


def reporting_currency() -> str:
    project = yaml.safe_load((DBT_PROJECT_DIR / "dbt_project.yml").read_text())
    return project["vars"]["reporting_currency"]


def simulate(candidate: Path, catalog: Path, warehouse: Path, first: date, last: date,
             report_dir: Path | None = None, publish: Path | None = None,
             progress=lambda msg: None) -> Outcome:
    warehouse = Path(warehouse).resolve()
    if last < first:
        raise SimulationError(f"--to {last:%Y-%m} is before --from {first:%Y-%m}")
    if not warehouse.exists():
        raise SimulationError(f"warehouse {warehouse} does not exist: bill the months with `tally run` first")
    with connect(warehouse) as con:
        if not table_exists(con, "billing", "invoices") or not table_exists(con, "raw", "events"):
            # a warehouse billed with --engine spark keeps its tables in WAREHOUSE.spark/: the
            # simulation rates on DuckDB (decision 33)
            raise SimulationError(f"{warehouse} has no billing.invoices or raw.events: bill the months with "
                                  f"`tally run` (DuckDB engine) first")
        billed = {r[0] for r in con.execute(
            "select distinct cast(date_trunc('month', period_end) as date) from billing.invoices").fetchall()}
    try:
        cand = candidates.prepare(candidate, catalog, warehouse.with_suffix(".simulation") / "catalog")
    except candidates.CandidateError as exc:
        raise SimulationError(str(exc)) from None
    kind = f"an overlay of {', '.join(cand.changed)} on {catalog}" if cand.overlay else "a full catalog"
    progress(f"Candidate {candidate}: {kind}")
    try:
        with connect(warehouse) as con:
            warnings = rating.load_candidate(con, cand.folder, first, last)
    except CatalogError as exc:
        # the merged overlay's rows, named as the user wrote them
        raise CatalogError([cand.locate(p) for p in exc.problems]) from None
    progress(f"Rating {first:%Y-%m} to {last:%Y-%m} under the candidate: dbt build into simulation_* schemas")
    rating.build(warehouse)
    currency = reporting_currency()
    with connect(warehouse) as con:
        diff.write(con, first, last, currency)
        text = report.summary_text(con, currency)
        written = report.write(con, report_dir, publish, first, last, currency) if report_dir else None
    unbilled = [m for m in months_between(first, last) if m not in billed]
    return Outcome(cand.overlay, cand.changed, warnings, text, written, unbilled)
