"""`tally run`: the Dagster assets materialized in process, then a summary.

Two materializations, both through Dagster: first the unpartitioned inputs (catalog, landing),
then the billing months as one partition range (one dbt build, then publishing)."""
from __future__ import annotations

import os
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path

import duckdb

from orchestration.catalog import CatalogError
from orchestration.lib.months import months_between, next_month
from orchestration.lib.warehouse import warehouse_lock


# Dagster's console logger at ERROR: the CLI prints its own progress and summary.
QUIET = {"loggers": {"console": {"config": {"log_level": "ERROR"}}}}


class RunError(Exception):
    """A run that cannot go on; the message says why, for people."""


@dataclass
class Summary:
    months: list[date]
    invoices: int = 0
    totals: list[tuple[str, int, Decimal]] = field(default_factory=list)
    events_sent: int = 0
    events_billed: int = 0
    events_quarantined: int = 0
    duplicates_ignored: int = 0
    quarantine_reasons: list[tuple[str, int]] = field(default_factory=list)
    money: list[tuple] = field(default_factory=list)
    invoice_types: list[tuple[str, int]] = field(default_factory=list)


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
        pages: bool = True) -> Summary:
    """Bill the months; `locked` when the caller already holds the warehouse lock."""
    catalog, landing, warehouse = Path(catalog).resolve(), Path(landing).resolve(), Path(warehouse).resolve()
    if not catalog.is_dir():
        raise RunError(f"catalog folder {catalog} does not exist")
    if not landing.is_dir():
        raise RunError(f"landing folder {landing} does not exist")
    os.environ.update({"TALLY_WAREHOUSE": str(warehouse), "TALLY_CATALOG": str(catalog),
                       "TALLY_LANDING": str(landing)})
    if publish is not None:
        os.environ["TALLY_PUBLISH"] = str(Path(publish).resolve())
    os.environ["TALLY_PAGES"] = "1" if pages else "0"
    with nullcontext() if locked else warehouse_lock(warehouse):
        progress("Loading Dagster definitions")
        from dagster import AssetSelection, DagsterInstance, materialize

        from orchestration import definitions as d
        instance = DagsterInstance.get() if os.environ.get("DAGSTER_HOME") else DagsterInstance.ephemeral()
        progress(f"Validating catalog {catalog} and landing new files from {landing}")
        try:
            materialize([d.pricing_catalog, d.landed_events], instance=instance, resources=d.defs.resources,
                        run_config=QUIET)
        except Exception as exc:  # Dagster wraps the asset's own error
            root = _unwrap(exc)
            if isinstance(root, CatalogError):
                raise RunError(str(root)) from None
            raise RunError(f"loading failed: {root}") from exc
        with duckdb.connect(str(warehouse)) as con:
            wanted = months if months else event_months(con, today or date.today())
        if not wanted:
            raise RunError(f"no events in {landing} and no --period given: nothing to bill")
        first, last = wanted[0], wanted[-1]
        progress(f"Billing {first:%Y-%m} to {last:%Y-%m}: dbt build, tests, publish")
        tags = {"dagster/asset_partition_range_start": first.strftime("%Y-%m-%d"),
                "dagster/asset_partition_range_end": last.strftime("%Y-%m-%d")}
        try:
            result = materialize([d.billing_models, d.published_billing, d.pricing_catalog, d.landed_events,
                                  d.great_expectations_gates],
                                 selection=AssetSelection.assets(d.billing_models, d.published_billing),
                                 instance=instance, resources=d.defs.resources, tags=tags, run_config=QUIET,
                                 raise_on_error=False)
        except Exception as exc:
            raise RunError(f"billing run failed: {_unwrap(exc)}") from exc
        if not result.success:
            raise RunError(failure_message(result))
        with duckdb.connect(str(warehouse)) as con:
            return summarize(con, first, last)


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
            error = event.step_failure_data.error
            return f"billing run failed in {event.step_key}: {error.message.strip() if error else 'unknown error'}"
    return "billing run failed"


def summarize(con: duckdb.DuckDBPyConnection, first: date, last: date) -> Summary:
    end = next_month(last)
    s = Summary(months=[first, last])
    window = "from billing.invoices where period_end >= ? and period_end < ?"
    s.invoices = con.execute(f"select count(*) {window}", [first, end]).fetchone()[0]
    s.totals = con.execute(f"select currency, count(*), sum(total_amount) {window} group by 1 order by 1",
                           [first, end]).fetchall()
    # what turned fees into totals, per currency: the money features at a glance
    s.money = con.execute(f"""
        select i.currency, sum(i.fees_amount), coalesce(sum(c.amount), 0), sum(i.progressive_billing_credit_amount),
               sum(i.coupons_amount), sum(i.taxes_amount), sum(i.prepaid_credit_amount), sum(i.total_amount)
        from billing.invoices as i
        left join (select invoice_id, sum(amount) as amount from billing.invoice_lines
                   where fee_type = 'commitment' group by 1) as c on i.invoice_id = c.invoice_id
        where i.period_end >= ? and i.period_end < ? group by 1 order by 1""", [first, end]).fetchall()
    s.invoice_types = con.execute(f"select invoice_type, count(*) {window} group by 1 order by 1",
                                  [first, end]).fetchall()
    s.events_sent = con.execute("select count(*) from raw.events").fetchone()[0]
    s.events_billed = con.execute(
        "select count(*) from raw.events where dedup_status = 'accepted'").fetchone()[0] - con.execute(
        "select count(*) from intermediate.int_events_unresolved").fetchone()[0]
    s.events_quarantined = con.execute("select count(*) from billing.quarantined_events").fetchone()[0]
    s.duplicates_ignored = con.execute(
        "select count(*) from raw.events where dedup_status = 'duplicate'").fetchone()[0]
    s.quarantine_reasons = con.execute(
        "select reason, count(*) from billing.quarantined_events group by 1 order by 1").fetchall()
    return s
