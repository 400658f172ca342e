"""When Tally runs by itself (SPEC §6): a daily meter refresh of the current month, the
monthly invoicing of the previous month once its grace period for late events is over, and
a sensor that, when a landing file arrives, loads it and refreshes current usage. Every run goes through the same
assets as `tally run`, so a scheduled month and a CLI month are the same computation."""
import hashlib
import os
from pathlib import Path

from dagster import (
    AssetSelection,
    DefaultScheduleStatus,
    DefaultSensorStatus,
    Definitions,
    RunRequest,
    ScheduleEvaluationContext,
    SensorEvaluationContext,
    SkipReason,
    define_asset_job,
    schedule,
    sensor,
)

from orchestration.defs.catalog import pricing_catalog
from orchestration.defs.current_usage import CURRENT_USAGE, REFRESH_SELECTION
from orchestration.defs.dbt import billing_models
from orchestration.defs.finalize import FINALIZED
from orchestration.defs.landing import landed_events
from orchestration.defs.partitions import billing_months
from orchestration.defs.resources import TallyPaths
from orchestration.landing import FORMATS
from orchestration.lib.months import month_start, previous_month
from orchestration.lib.window import partition_key

# days after a month ends during which late events still land in it before invoicing
GRACE_DAYS = int(os.environ.get("TALLY_GRACE_DAYS", "3"))

loading = AssetSelection.assets(pricing_catalog, landed_events)
# what finance launches: catalog, landing, every dbt model, the checks and publishing, for the
# months picked (one run: the partitioned assets have a single-run backfill policy)
# (billing/current_usage is the refresh job's: billing/published publishes current usage too)
billing_job = define_asset_job(
    "bill_months", selection=AssetSelection.all() - AssetSelection.assets(FINALIZED, CURRENT_USAGE),
    partitions_def=billing_months,
    description="Bill the months picked: load the catalog and new landing files, run every dbt model "
                "and its tests, the data checks, and publish the invoices (as `tally run --from --to`).")
meters_job = define_asset_job("daily_meters", selection=loading | AssetSelection.assets(billing_models),
                              partitions_def=billing_months,
                              description="Refresh a month's meters and draft invoices from everything landed "
                                          "(nothing is published).")
current_usage_job = define_asset_job(
    "refresh_current_usage", selection=REFRESH_SELECTION, partitions_def=billing_months,
    description="Load new landing files and refresh billing.current_usage (every open period so far), "
                "the usage alerts and the pages; invoices are not touched.")
landing_job = define_asset_job("load_landing", selection=loading,
                               description="Validate the catalog and load new landing files.")


def landing_fingerprint(folder: Path) -> str:
    """Names, sizes and modification times of the landing files: changes when one arrives."""
    files = sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in FORMATS) \
        if folder.is_dir() else []
    text = "\n".join(f"{p.name}:{p.stat().st_size}:{p.stat().st_mtime_ns}" for p in files)
    return hashlib.sha256(text.encode()).hexdigest()


@schedule(job=meters_job, cron_schedule="0 2 * * *", execution_timezone="UTC",
          default_status=DefaultScheduleStatus.STOPPED,
          description="Every day at 02:00 UTC: the current month's meters and draft invoices, from everything "
                      "landed so far.")
def daily_meters(context: ScheduleEvaluationContext):
    """Refresh the current month's meters (and draft invoices) from everything landed."""
    day = context.scheduled_execution_time.date()
    return RunRequest(run_key=f"meters-{day.isoformat()}", partition_key=partition_key(month_start(day)))


@schedule(job=billing_job, cron_schedule=f"0 4 {GRACE_DAYS + 1} * *", execution_timezone="UTC",
          default_status=DefaultScheduleStatus.STOPPED,
          description=f"Bill and publish last month on day {GRACE_DAYS + 1} at 04:00 UTC, once its "
                      f"{GRACE_DAYS} grace days for late events are over (TALLY_GRACE_DAYS).")
def monthly_invoicing(context: ScheduleEvaluationContext):
    """Bill and publish last month, the day after its grace period."""
    month = partition_key(previous_month(context.scheduled_execution_time.date()))
    return RunRequest(run_key=f"invoicing-{month}", partition_key=month)


@sensor(job=current_usage_job, minimum_interval_seconds=60, default_status=DefaultSensorStatus.STOPPED,
        description="When a landing file arrives or changes (checked every minute): load it and refresh "
                    "current usage, the usage alerts and the pages.")
def new_landing_files(context: SensorEvaluationContext):
    """Load the landing folder and refresh current usage when a file arrives or changes."""
    # the folder the runs it requests will load: TallyPaths as the definitions configure it
    folder = TallyPaths().landing_path()
    fingerprint = landing_fingerprint(folder)
    if fingerprint == context.cursor:
        return SkipReason(f"no new files in {folder}")
    context.update_cursor(fingerprint)
    # the current month's window holds every open period up to now
    return RunRequest(run_key=fingerprint, partition_key=partition_key(month_start(today())))


def today():
    from datetime import UTC, datetime
    return datetime.now(UTC).date()


defs = Definitions(jobs=[billing_job, meters_job, current_usage_job, landing_job],
                   schedules=[daily_meters, monthly_invoicing], sensors=[new_landing_files])
