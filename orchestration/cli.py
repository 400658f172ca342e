"""The `tally` command (SPEC §1)."""
from __future__ import annotations

import contextlib
import logging
import os
import sys
import warnings
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from orchestration.engines import DEFAULT_ENGINE, ENGINES
from orchestration.paths import DEFAULT_CATALOG, DEFAULT_LANDING, DEFAULT_PUBLISH, DEFAULT_WAREHOUSE

console = Console(file=sys.__stdout__)

ENGINE_OPTION = click.option(
    "--engine", type=click.Choice(ENGINES), default=DEFAULT_ENGINE, show_default=True,
    help="duckdb: the warehouse is the DuckDB file. spark: a local Spark session (dbt-spark, pip install "
         "-e '.[spark]', Java 17) whose metastore and tables live in WAREHOUSE.spark/.")

PDF_OPTION = click.option(
    "--pdf/--no-pdf", default=False, show_default=True,
    help="Also print each invoice page to PUBLISH/pdf/<invoice_id>.pdf (A4, one page for an ordinary "
         "invoice) with headless Chromium (`make browser`); without Chromium: a warning and no PDFs.")


def check_pdf(pdf: bool, pages: bool) -> None:
    """--pdf prints the pages this command renders; say now (the run's own output goes to its log)
    when there is no Chromium to print them."""
    if not pdf:
        return
    if not pages:
        raise click.UsageError("--pdf prints the invoice pages: it cannot go with --no-pages")
    from orchestration.invoice_pdf import missing_chromium
    if (why := missing_chromium()) is not None:
        console.print(f"[bold yellow]warning:[/] {why}", highlight=False)




def INPUT_OPTIONS(command):  # a decorator, named like the options above
    """--catalog, --landing and --warehouse, as `run` and `refresh` take them."""
    for option in reversed((
            click.option("--catalog", type=click.Path(path_type=Path), default=DEFAULT_CATALOG, show_default=True,
                         help="Pricing catalog folder (CSV files)."),
            click.option("--landing", type=click.Path(path_type=Path), default=DEFAULT_LANDING, show_default=True,
                         help="Folder of event files (JSON Lines, CSV, Parquet)."),
            click.option("--warehouse", type=click.Path(path_type=Path), default=DEFAULT_WAREHOUSE,
                         show_default=True, help="The DuckDB file."))):
        command = option(command)
    return command


@contextlib.contextmanager
def locked_with_log(warehouse: Path):
    """The warehouse's lock, then dbt's and Dagster's own output sent to <warehouse>.run.log (the
    lock first: a command turned away must not truncate the log of the run in progress)."""
    from orchestration.lib.warehouse import warehouse_lock
    log_path = Path(warehouse).resolve().with_suffix(".run.log")
    with warehouse_lock(Path(warehouse).resolve()), log_path.open("w") as log, contextlib.redirect_stdout(log), \
            contextlib.redirect_stderr(log):
        yield log_path


@click.group()
def main() -> None:
    """Tally: usage-based billing on dbt + DuckDB + Dagster."""


@main.command()
@INPUT_OPTIONS
@click.option("--period", help="One billing month to (re)compute, YYYY-MM.")
@click.option("--from", "from_", help="First billing month of a range, YYYY-MM.")
@click.option("--to", help="Last billing month of a range, YYYY-MM (inclusive).")
@click.option("--publish", type=click.Path(path_type=Path), default=DEFAULT_PUBLISH, show_default=True,
              help="Where the published files go.")
@click.option("--pages/--no-pages", default=True, show_default=True,
              help="Render the HTML invoice and customer pages into PUBLISH/pages (they cost time per "
                   "customer, not per event: large runs may render them apart).")
@PDF_OPTION
@ENGINE_OPTION
def run(catalog: Path, landing: Path, warehouse: Path, period: str | None, from_: str | None, to: str | None,
        publish: Path, pages: bool, pdf: bool, engine: str) -> None:
    """Load the catalog and new events, bill the months, publish, print a summary."""
    check_pdf(pdf, pages)
    from orchestration import runner
    if engine == "spark":
        from orchestration.engines.spark import runner as spark_runner
        bill = spark_runner.run
    else:
        bill = runner.run
    from orchestration.lib.warehouse import WarehouseInUse
    try:
        months = _months(period, from_, to)
        quiet_dagster()
        with locked_with_log(warehouse) as log_path, console.status("starting") as status:
            summary = bill(catalog, landing, warehouse, months, publish, locked=True, pages=pages, pdf=pdf,
                           progress=lambda msg: (status.update(msg), console.log(msg)))
        console.print(f"dbt and Dagster logs: {log_path}")
    except (runner.RunError, WarehouseInUse) as exc:
        console.print(f"[bold red]tally run failed:[/] {exc}", highlight=False)
        sys.exit(1)
    print_summary(summary)


@main.command()
@INPUT_OPTIONS
@click.option("--publish", type=click.Path(path_type=Path), default=DEFAULT_PUBLISH, show_default=True,
              help="Where the pages and the alerts outbox go.")
@click.option("--pages/--no-pages", default=True, show_default=True,
              help="Render the pages again (once a billing run has published them).")
def refresh(catalog: Path, landing: Path, warehouse: Path, publish: Path, pages: bool) -> None:
    """Load new events and refresh billing.current_usage: every open period so far, the usage
    alerts and the pages (what the new_landing_files sensor runs); invoices are not touched."""
    from datetime import UTC, datetime

    import duckdb

    from orchestration import runner
    from orchestration.lib.warehouse import WarehouseInUse
    try:
        quiet_dagster()
        with locked_with_log(warehouse):
            # the UTC date, as the new_landing_files sensor's: the window is the current month
            runner.refresh(catalog, landing, warehouse, publish, datetime.now(UTC).date(), pages=pages, locked=True)
    except (runner.RunError, WarehouseInUse) as exc:
        console.print(f"[bold red]tally refresh failed:[/] {exc}", highlight=False)
        sys.exit(1)
    with duckdb.connect(str(warehouse), read_only=True) as con:
        rows = con.execute("""
            select currency, count(distinct external_subscription_id), sum(amount), sum(projected_amount),
                   max(as_of)
            from billing.current_usage group by all order by all""").fetchall()
    if not rows:
        console.print("current usage: no open period (no billable event landed yet)")
    for currency, subscriptions, amount, projected, as_of in rows:
        console.print(f"current usage as of {as_of:%Y-%m-%d %H:%M:%S} UTC: {currency} {_money(amount)} so far "
                      f"over {subscriptions} subscription(s), {_money(projected)} projected")


@main.command()
@click.option("--candidate", type=click.Path(path_type=Path), required=True,
              help="The candidate catalog: a full catalog folder, or an overlay holding only the files it changes "
                   "(rows replace current rows with the same id or are added; `_remove`=true removes one).")
@click.option("--from", "from_", required=True, help="First billing month to simulate, YYYY-MM.")
@click.option("--to", required=True, help="Last billing month to simulate, YYYY-MM (inclusive).")
@click.option("--catalog", type=click.Path(path_type=Path), default=DEFAULT_CATALOG, show_default=True,
              help="The current catalog folder an overlay is laid over.")
@click.option("--warehouse", type=click.Path(path_type=Path), default=DEFAULT_WAREHOUSE, show_default=True,
              help="The DuckDB file, billed for these months by `tally run`.")
@click.option("--report", type=click.Path(path_type=Path), default=None,
              help="Write REPORT/simulation.html (charts, largest changes, per plan and month).")
@click.option("--publish", type=click.Path(path_type=Path), default=DEFAULT_PUBLISH, show_default=True,
              help="Where `tally run` published the pages the report links the current invoices to.")
def simulate(candidate: Path, from_: str, to: str, catalog: Path, warehouse: Path, report: Path | None,
             publish: Path) -> None:
    """Rate the months again under a candidate catalog, in the simulation schemas, and compare with
    what was published (simulation.invoice_diff, line_diff, summary); billing is only read."""
    from orchestration import runner
    from orchestration.catalog import CatalogError
    from orchestration.lib.warehouse import WarehouseInUse
    from orchestration.simulation.rating import SimulationError
    from orchestration.simulation.run import simulate as run_simulation
    try:
        first, last = runner.parse_month(from_), runner.parse_month(to)
        with locked_with_log(warehouse):
            outcome = run_simulation(candidate, catalog, warehouse, first, last, report, publish,
                                     progress=lambda msg: console.print(msg, highlight=False, soft_wrap=True))
    except CatalogError as exc:
        console.print(f"[bold red]tally simulate failed:[/] the candidate catalog: {exc}", highlight=False)
        sys.exit(1)
    except (runner.RunError, SimulationError, WarehouseInUse) as exc:
        console.print(f"[bold red]tally simulate failed:[/] {exc}", highlight=False)
        sys.exit(1)
    for warning in outcome.warnings:
        console.print(f"[yellow]warning:[/] {warning}", highlight=False)
    if outcome.unbilled_months:
        months = ", ".join(f"{m:%Y-%m}" for m in outcome.unbilled_months)
        console.print(f"[yellow]warning:[/] nothing published for {months}: everything the candidate bills there "
                      f"shows as new (bill them with `tally run` first)", highlight=False)
    console.print(outcome.text, highlight=False, soft_wrap=True)
    if outcome.report:
        console.print(f"report: {outcome.report}", highlight=False)


@main.command()
@click.option("--period", required=True, help="The billing month to finalize, YYYY-MM.")
@click.option("--warehouse", type=click.Path(path_type=Path), default=DEFAULT_WAREHOUSE, show_default=True,
              help="The DuckDB file.")
@click.option("--publish", type=click.Path(path_type=Path), default=DEFAULT_PUBLISH, show_default=True,
              help="Where the published files go (the month's files are rewritten with status finalized).")
@click.option("--force", is_flag=True, default=False,
              help="Finalize even if the month's grace period (TALLY_GRACE_DAYS after it ends) has not passed.")
@PDF_OPTION
@ENGINE_OPTION
def finalize(period: str, warehouse: Path, publish: Path, force: bool, pdf: bool, engine: str) -> None:
    """Mark a month's invoices finalized: they never change again; re-rating adds adjustments."""
    check_pdf(pdf, pages=True)
    from datetime import date

    from orchestration import finalize as finalizer
    from orchestration import runner
    from orchestration.lib.warehouse import WarehouseInUse, connect, warehouse_lock
    try:
        month = runner.parse_month(period)
        if engine == "spark":
            done = _finalize_on_spark(Path(warehouse).resolve(), month, Path(publish).resolve(), force, pdf)
        else:
            if not Path(warehouse).exists():
                raise runner.RunError(f"warehouse {warehouse} does not exist: run `tally run` first")
            with warehouse_lock(Path(warehouse).resolve()), connect(Path(warehouse)) as con:
                done = finalizer.finalize(con, month, date.today(), publish, force=force, pdf=pdf)
                if os.environ.get("DAGSTER_HOME"):  # the Dagster instance the UI reads records it too
                    from orchestration.defs.finalize import record_cli_finalize
                    record_cli_finalize(con, month, done)
    except (runner.RunError, WarehouseInUse, finalizer.FinalizeError) as exc:
        console.print(f"[bold red]tally finalize failed:[/] {exc}", highlight=False)
        sys.exit(1)
    if done.already:
        console.print(f"{period} is already finalized; nothing changed (its files in {publish} are written "
                      "again from the warehouse).")
        return
    totals = ", ".join(f"{currency} {_money(amount)}" for currency, amount in done.total_by_currency)
    console.print(f"{period} finalized: {done.invoices} invoices ({totals}). Re-rating it from now on writes "
                  "adjustments (credit notes or adjustment invoices) instead of changing them.")


@main.command()
@click.argument("line_id")
@click.option("--warehouse", type=click.Path(path_type=Path), default=DEFAULT_WAREHOUSE, show_default=True,
              help="The DuckDB file (opened read-only).")
@click.option("--events", "first_events", type=click.IntRange(min=0), default=10, show_default=True,
              help="How many of the line's events to list (all are counted).")
def explain(line_id: str, warehouse: Path, first_events: int) -> None:
    """How a published invoice line was computed: its events, aggregation, prices, rounding and
    its way to the invoice total (LINE_ID: billing.invoice_lines.line_id)."""
    from orchestration.explain import UnknownLine, explain_text
    try:
        text = explain_text(warehouse, line_id, first_events)
    except UnknownLine as exc:
        click.echo(f"tally explain: {exc}", err=True)
        sys.exit(2)
    click.echo(text, nl=False)


def _finalize_on_spark(warehouse: Path, month, publish: Path, force: bool, pdf: bool = False):
    from datetime import date

    from orchestration import runner
    from orchestration.engines.spark import finalize as spark_finalizer
    from orchestration.engines.spark.session import SparkDbt, spark_dir
    from orchestration.lib.warehouse import warehouse_lock
    if not spark_dir(warehouse).exists():
        raise runner.RunError(f"no Spark warehouse at {spark_dir(warehouse)}: run `tally run --engine spark` first")
    log_path = warehouse.with_suffix(".finalize.log")
    with warehouse_lock(warehouse), log_path.open("w") as log, contextlib.redirect_stdout(log), \
            contextlib.redirect_stderr(log):
        spark = SparkDbt(warehouse).open_session()
        return spark_finalizer.finalize(spark, month, date.today(), publish, force=force, pdf=pdf)


def quiet_dagster() -> None:
    """Keep Dagster's per-event logging off the terminal: the CLI prints its own progress."""
    os.environ.setdefault("DAGSTER_DISABLE_TELEMETRY", "1")
    warnings.filterwarnings("ignore")
    for name in ("dagster", "dagster_dbt"):
        logging.getLogger(name).setLevel(logging.ERROR)


def _months(period, from_, to):
    from orchestration.lib.months import months_between
    from orchestration.runner import RunError, parse_month
    if period and (from_ or to):
        raise RunError("use either --period or --from/--to, not both")
    if period:
        return [parse_month(period)]
    if from_ or to:
        if not (from_ and to):
            raise RunError("--from and --to go together")
        first, last = parse_month(from_), parse_month(to)
        if last < first:
            raise RunError(f"--to {to} is before --from {from_}")
        return months_between(first, last)
    return None


def _money(amount) -> str:
    return f"{amount:,.0f}" if amount == amount.to_integral() else f"{amount:,.2f}"


def print_summary(s) -> None:
    # one column per currency, one row per step from fees to total: fits a terminal
    table = Table(title=f"Invoices {s.months[0]:%Y-%m} to {s.months[1]:%Y-%m}")
    table.add_column("")
    for currency, *_ in s.money:
        table.add_column(currency, justify="right")
    counts = {currency: count for currency, count, _ in s.totals}
    table.add_row("invoices", *(str(counts[currency]) for currency, *_ in s.money))
    labels = ("fees", "  of which commitments", "progressive credit", "coupons", "taxes", "prepaid credits used",
              "total")
    for i, label in enumerate(labels, start=1):
        table.add_row(label, *(_money(row[i]) for row in s.money))
    console.print(table)
    console.print(f"invoices: {s.invoices} (" + ", ".join(f"{t} {n}" for t, n in s.invoice_types) + ")")
    console.print(f"events sent: {s.events_sent} = billed {s.events_billed} + quarantined "
                  f"{s.events_quarantined} + duplicates ignored {s.duplicates_ignored}")
    for reason, n in s.quarantine_reasons:
        console.print(f"  quarantined {reason}: {n}")
    if s.catalog_warnings:
        console.print(f"catalog warnings: {len(s.catalog_warnings)} (loaded, not billed)", highlight=False)
    for warning in s.catalog_warnings:
        console.print(f"  {warning}", highlight=False)


if __name__ == "__main__":
    main()



def entry() -> None:
    """The `tally` command (pyproject's script): `main`, then the process ends at once
    (orchestration/lib/quick_exit.py: ~1.8 s of interpreter teardown a command saved)."""
    from orchestration.lib.quick_exit import run_and_exit
    run_and_exit(main)
