"""alerts.csv (orchestration/catalog/alerts.py): Lago's usage alerts load as typed rows, the file
may be left out, and every rule Lago's API applies (usage_monitoring/alert.rb, its unique
indexes, the thresholds' shape) is refused with its file, row and rule."""
from __future__ import annotations

import json
import shutil
from decimal import Decimal as D

import duckdb
import pytest

from orchestration import rating_state
from orchestration.catalog import load, validate
from orchestration.catalog.alerts import Alert, AlertThreshold
from tests.unit.test_catalog import DEMO, copy_catalog, problems, write_csv

HEADER = "code,name,external_subscription_id,alert_type,billable_metric_code,thresholds"
TYPES = ("['current_usage_amount', 'billable_metric_current_usage_amount', 'billable_metric_current_usage_units', "
         "'lifetime_usage_amount']")


def cell(thresholds) -> str:
    """A thresholds cell: JSON, quoted for CSV."""
    text = thresholds if isinstance(thresholds, str) else json.dumps(thresholds)
    return '"' + text.replace('"', '""') + '"'


WARN = cell([{"code": "warn", "value": "10", "recurring": False}])


def catalog(tmp_path, *rows: str, header: str = HEADER):
    folder = copy_catalog(tmp_path)
    write_csv(folder, "alerts.csv", header, *rows)
    return folder


def refused(tmp_path, *rows: str) -> list[str]:
    return problems(catalog(tmp_path, *rows))


# ---------------------------------------------------------------- what loads

def test_the_demo_alerts_load_as_typed_rows():
    tables = validate(DEMO).tables
    assert tables["alerts"][1] == [
        Alert("sub_103", "usage_budget", "Monthly usage budget", "current_usage_amount", None, 2),
        Alert("sub_035", "tokens_volume", "Tokens this month", "billable_metric_current_usage_units", "tokens", 3),
        Alert("sub_062", "lifetime_spend", "Lifetime usage spend", "lifetime_usage_amount", None, 4)]
    assert tables["alert_thresholds"][1] == [
        AlertThreshold("sub_103", "usage_budget", 1, "warn", D("50"), False),
        AlertThreshold("sub_103", "usage_budget", 2, "limit", D("100"), False),
        AlertThreshold("sub_103", "usage_budget", 3, "every_100", D("100"), True),
        AlertThreshold("sub_035", "tokens_volume", 1, "10m", D("10000000"), False),
        AlertThreshold("sub_062", "lifetime_spend", 1, "1k", D("1000"), False),
        AlertThreshold("sub_062", "lifetime_spend", 2, "5k", D("5000"), False)]


def test_alerts_csv_is_optional(tmp_path):
    folder = copy_catalog(tmp_path)
    (folder / "alerts.csv").unlink()
    tables = validate(folder).tables
    assert tables["alerts"][1] == [] and tables["alert_thresholds"][1] == []


def test_lagos_unset_values_and_shapes_load(tmp_path):
    # no name column; `null` metric and threshold code; a value as a JSON number; recurring left out
    folder = catalog(tmp_path, f"a1,sub_001,current_usage_amount,null,{cell([{'code': None, 'value': 12.5}])}",
                     header="code,external_subscription_id,alert_type,billable_metric_code,thresholds")
    tables = validate(folder).tables
    assert tables["alerts"][1] == [Alert("sub_001", "a1", None, "current_usage_amount", None, 2)]
    assert tables["alert_thresholds"][1] == [AlertThreshold("sub_001", "a1", 1, None, D("12.5"), False)]


def test_the_same_code_on_two_subscriptions_and_one_alert_of_each_type_load(tmp_path):
    folder = catalog(tmp_path, f"budget,,sub_001,current_usage_amount,,{WARN}",
                     f"budget,,sub_002,current_usage_amount,,{WARN}",
                     f"calls,,sub_001,billable_metric_current_usage_units,api_calls,{WARN}",
                     f"tokens,,sub_001,billable_metric_current_usage_units,tokens,{WARN}",
                     f"calls_spend,,sub_001,billable_metric_current_usage_amount,api_calls,{WARN}",
                     f"ever,,sub_001,lifetime_usage_amount,,{WARN}")
    assert len(validate(folder).tables["alerts"][1]) == 6


# ---------------------------------------------------------------- refused

def test_an_unknown_alert_type_is_refused(tmp_path):
    assert refused(tmp_path, f"a1,,sub_001,wallet_balance_amount,,{WARN}") == [
        f"alerts.csv row 2: alert_type 'wallet_balance_amount' is unknown (rule: one of {TYPES})"]


def test_a_metric_is_required_for_the_metric_types_and_refused_for_the_others(tmp_path):
    assert refused(tmp_path, f"a1,,sub_001,billable_metric_current_usage_units,,{WARN}",
                   f"a2,,sub_001,lifetime_usage_amount,api_calls,{WARN}") == [
        ("alerts.csv row 2: billable_metric_code is required for billable_metric_current_usage_units (rule: a "
        "billable_metric_* alert names its metric)"),
        ("alerts.csv row 3: billable_metric_code must be empty for lifetime_usage_amount (rule: only the "
        "billable_metric_* alerts name a metric)")]


def test_the_subscription_and_the_metric_must_exist(tmp_path):
    assert refused(tmp_path, f"a1,,sub_999,current_usage_amount,,{WARN}",
                   f"a2,,sub_001,billable_metric_current_usage_amount,gigawatts,{WARN}") == [
        "alerts.csv row 2: external_subscription_id 'sub_999' does not exist in subscriptions.csv",
        "alerts.csv row 3: billable_metric_code 'gigawatts' does not exist in billable_metrics.csv"]


def test_code_subscription_and_type_are_required(tmp_path):
    assert refused(tmp_path, f",,,,,{WARN}") == [
        "alerts.csv row 2: code is required", "alerts.csv row 2: external_subscription_id is required",
        "alerts.csv row 2: alert_type is required"]


def test_a_code_is_unique_per_subscription(tmp_path):
    assert refused(tmp_path, f"budget,,sub_001,current_usage_amount,,{WARN}",
                   f"budget,,sub_001,lifetime_usage_amount,,{WARN}") == [
        ("alerts.csv row 3: duplicate code 'budget' for subscription 'sub_001' (first at row 2; rule: an alert code "
        "is unique per subscription)")]


def test_one_alert_per_type_and_metric_per_subscription(tmp_path):
    assert refused(tmp_path, f"a1,,sub_001,current_usage_amount,,{WARN}",
                   f"a2,,sub_001,current_usage_amount,,{WARN}",
                   f"a3,,sub_001,billable_metric_current_usage_units,tokens,{WARN}",
                   f"a4,,sub_001,billable_metric_current_usage_units,tokens,{WARN}") == [
        ("alerts.csv row 3: subscription 'sub_001' already has a current_usage_amount alert (row 2; rule: one alert "
        "per type and metric per subscription, as Lago)"),
        ("alerts.csv row 5: subscription 'sub_001' already has a billable_metric_current_usage_units alert on "
        "'tokens' (row 4; rule: one alert per type and metric per subscription, as Lago)")]


def test_at_most_one_recurring_threshold(tmp_path):
    steps = cell([{"value": "10", "recurring": True}, {"value": "20", "recurring": False},
                  {"value": "30", "recurring": True}])
    assert refused(tmp_path, f"a1,,sub_001,current_usage_amount,,{steps}") == [
        ("alerts.csv row 2: thresholds[2] is a second recurring threshold (first: thresholds[0]; rule: at most one "
        "recurring threshold per alert)")]


@pytest.mark.parametrize(("value", "problem"), [
    ("0", "thresholds[0].value='0' must be above 0 (rule: a threshold is a positive value)"),
    ("-5", "thresholds[0].value='-5' must be above 0 (rule: a threshold is a positive value)"),
    ("ten", "thresholds[0].value='ten' is not a decimal number"),
    (None, "thresholds[0].value is required"),
])
def test_threshold_values_are_positive_decimals(tmp_path, value, problem):
    assert refused(tmp_path, f"a1,,sub_001,current_usage_amount,,{cell([{'code': 'x', 'value': value}])}") == [
        f"alerts.csv row 2: {problem}"]


@pytest.mark.parametrize(("thresholds", "problem"), [
    ("", "thresholds is required (rule: an alert has at least one threshold)"),
    ("[]", "thresholds needs at least one threshold (rule: an alert has at least one threshold)"),
    ("null", "thresholds needs at least one threshold (rule: an alert has at least one threshold)"),
    ("[{", "thresholds is not valid JSON (Expecting property name enclosed in double quotes)"),
    ('{"value": "10"}', "thresholds must be a JSON list"),
    ('["10"]', "thresholds[0] must be an object with code, value and recurring"),
    ('[{"value": "10", "amount_cents": 1000}]',
     "thresholds[0] has unknown keys ['amount_cents'] (rule: a threshold has ['code', 'value', 'recurring'])"),
    ('[{"value": "10", "recurring": "yes"}]', "thresholds[0].recurring must be true, false or null"),
    ('[{"value": "10", "code": 7}]', "thresholds[0].code must be a string or null"),
    ('[{"value": "10"}, {"value": "10.0"}]',
     "thresholds[1].value 10.0 is already thresholds[0] (rule: each one-time threshold value once)"),
])
def test_the_thresholds_list_has_lagos_shape(tmp_path, thresholds, problem):
    text = cell(thresholds) if thresholds else ""
    assert refused(tmp_path, f"a1,,sub_001,current_usage_amount,,{text}") == [f"alerts.csv row 2: {problem}"]


def test_an_unknown_column_is_refused(tmp_path):
    [problem] = problems(catalog(tmp_path, f"a1,,sub_001,current_usage_amount,,{WARN},increasing",
                                 header=f"{HEADER},direction"))
    assert problem.startswith("alerts.csv row 1: column 'direction' is unknown (rule: the columns of alerts.csv "
                              "are ['code', 'external_subscription_id', 'alert_type', 'billable_metric_code', "
                              "'thresholds', 'name']")


def test_an_alert_on_a_metric_its_plan_does_not_charge_loads_with_a_warning(tmp_path):
    # starter_usd (sub_001) has no seats charge; team_seats_usd (sub_104) charges images in advance,
    # which current usage shows as Lago's does: no warning
    folder = catalog(tmp_path, f"a1,,sub_001,billable_metric_current_usage_units,seats,{WARN}",
                     f"a2,,sub_104,billable_metric_current_usage_amount,images,{WARN}")
    assert validate(folder).warnings == [
        ("alerts.csv row 2: plan 'starter_usd' of subscription 'sub_001' does not charge it: the alert on 'seats' "
        "never fires (Lago skips it too)")]


def test_changing_an_alert_rates_nothing_again(tmp_path):
    """Alerts change no figure: editing alerts.csv keeps the rating and period state (rating_state.NOT_BILLED)."""
    con = duckdb.connect(":memory:")
    load(con, DEMO)
    rating_state.invalidate_if_catalog_changed(con)
    stored = con.execute("select * from raw.rating_state").fetchall()
    folder = tmp_path / "demo"
    shutil.copytree(DEMO, folder)
    write_csv(folder, "alerts.csv", HEADER, f"a1,,sub_001,current_usage_amount,,{WARN}")
    load(con, folder)
    assert rating_state.invalidate_if_catalog_changed(con) is False
    assert con.execute("select * from raw.rating_state").fetchall() == stored
