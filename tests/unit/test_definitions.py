"""The Dagster definitions load, and the billing models are partitioned by month."""
from dagster import Definitions
from dagster_dbt import get_asset_key_for_model

from orchestration.definitions import defs
from orchestration.defs.dbt import billing_models
from orchestration.defs.partitions import billing_months
from orchestration.defs.publish import published_billing


def test_definitions_load_and_partitioning():
    Definitions.validate_loadable(defs)
    assert billing_models.partitions_def == billing_months
    assert published_billing.partitions_def == billing_months
    keys = {k.to_user_string() for k in defs.resolve_asset_graph().get_all_asset_keys()}
    assert {"raw/events", "catalog/charges", "billing/published"} <= keys
    assert get_asset_key_for_model([billing_models], "fct_invoices").to_user_string() in keys
    assert billing_months.get_partition_keys()[:2] == ["2020-01", "2020-02"]


def test_schedules_pick_the_right_billing_month(monkeypatch):
    from datetime import UTC, datetime

    from dagster import build_schedule_context

    from orchestration.defs.automation import GRACE_DAYS

    meters = defs.get_schedule_def("daily_meters")
    invoicing = defs.get_schedule_def("monthly_invoicing")
    assert meters.cron_schedule == "0 2 * * *"
    assert invoicing.cron_schedule == f"0 4 {GRACE_DAYS + 1} * *"
    # the daily refresh of 15 November bills November so far
    run = meters(build_schedule_context(scheduled_execution_time=datetime(2026, 11, 15, 2, tzinfo=UTC)))
    assert (run.partition_key, run.run_key) == ("2026-11", "meters-2026-11-15")
    # the invoicing run of early January bills December of the year before
    run = invoicing(build_schedule_context(scheduled_execution_time=datetime(2027, 1, 4, 4, tzinfo=UTC)))
    assert (run.partition_key, run.run_key) == ("2026-12", "invoicing-2026-12")
    assert (invoicing.job_name, meters.job_name) == ("bill_months", "daily_meters")


def test_sensor_runs_once_per_new_landing_file(tmp_path, monkeypatch):
    from dagster import RunRequest, SkipReason, build_sensor_context

    monkeypatch.setenv("TALLY_LANDING", str(tmp_path))
    sensor = defs.get_sensor_def("new_landing_files")
    (tmp_path / "a.jsonl").write_text("{}\n")
    (tmp_path / "notes.txt").write_text("not an event file\n")
    context = build_sensor_context()
    first = sensor(context)
    assert isinstance(first, RunRequest)
    cursor = context.cursor
    assert isinstance(sensor(build_sensor_context(cursor=cursor)), SkipReason)
    (tmp_path / "notes.txt").write_text("still not an event file\n")
    assert isinstance(sensor(build_sensor_context(cursor=cursor)), SkipReason)
    (tmp_path / "b.csv").write_text("transaction_id\n")
    second = sensor(build_sensor_context(cursor=cursor))
    assert isinstance(second, RunRequest) and second.run_key != first.run_key


def test_what_finance_sees_is_named_for_finance():
    """Jobs named for the task, months as months, plain-language checks, descriptions not SQL."""
    from orchestration.defs.partitions import MONTH_FORMAT
    assert MONTH_FORMAT == "%Y-%m"
    assert {"bill_months", "finalize_month"} <= {j.name for j in defs.jobs}
    assert all(j.description for j in defs.jobs)
    assert all(s.description for s in [*defs.schedules, *defs.sensors])
    graph = defs.resolve_asset_graph()
    checks = {(k.asset_key.to_user_string(), k.name) for k in graph.asset_check_keys}
    names = {"events_are_billable", "usage_is_consistent", "invoices_add_up"}
    assert {name for asset, name in checks if asset == "billing/published"} == names
    # dbt's own tests fail the build, not one check each; the usage alerts warn on current usage
    assert {name for _, name in checks} == names | {"usage_alerts"}
    assert {name for asset, name in checks if asset == "billing/current_usage"} == {"usage_alerts"}
    descriptions = {k.to_user_string(): graph.get(k).description or "" for k in billing_models.keys}
    assert not [k for k, d in descriptions.items() if "select " in d.lower()]
    assert descriptions["marts/fct_invoices"] == "billing.invoices — one row per invoice (SPEC §4)."
