"""Pay-in-advance charges in the catalog (decision 23): what loads, and what is refused on its row
with Lago's rule — app/models/charge.rb validate_pay_in_advance (max/latest/weighted-sum metrics,
the volume model: invalid_aggregation_type_or_charge_model) and validate_min_amount_cents
(not_compatible_with_pay_in_advance); invoiceable must be true unless pay_in_advance
(must_be_true_unless_pay_in_advance) — and what Tally does not bill in advance yet: on a recurring
metric, a model priced per event (percentage) and a plan with usage thresholds."""
from __future__ import annotations

import pytest

from orchestration.catalog import validate
from tests.unit.test_catalog import add_column, copy_catalog, problems, set_cell
from tests.unit.test_catalog_known import row_of

LAGO = "rule: Lago charge.rb validate_pay_in_advance"


def charges(folder) -> dict[str, tuple]:
    return {r[0]: r for r in validate(folder).tables["charges"][1]}


def test_a_pay_in_advance_sum_charge_loads_invoiceable_per_event_by_default(tmp_path):
    folder = copy_catalog(tmp_path)
    set_cell(folder, "charges.csv", "ch_pro_tokens", "pay_in_advance", "true")
    row = charges(folder)["ch_pro_tokens"]
    assert (row[4], row[-2], row[-1]) == (True, True, "event")


def test_invoiceable_false_and_day_grouping_load(tmp_path):
    folder = copy_catalog(tmp_path)
    set_cell(folder, "charges.csv", "ch_pro_tokens", "pay_in_advance", "true")
    set_cell(folder, "charges.csv", "ch_dev_tokens", "pay_in_advance", "true")
    add_column(folder, "charges.csv", "invoiceable", {"ch_pro_tokens": "false", "ch_dev_tokens": "null"})
    add_column(folder, "charges.csv", "instant_invoice_grouping", {"ch_dev_tokens": "day"})
    rows = charges(folder)
    assert (rows["ch_pro_tokens"][-2], rows["ch_pro_tokens"][-1]) == (False, "event")
    assert (rows["ch_dev_tokens"][-2], rows["ch_dev_tokens"][-1]) == (True, "day")


@pytest.mark.parametrize(("metric", "agg"), [("storage_gb", "max_agg"), ("fine_tuned_models", "latest_agg")])
def test_an_aggregation_lago_does_not_bill_in_advance_is_refused(tmp_path, metric, agg):
    folder = copy_catalog(tmp_path)
    row = set_cell(folder, "charges.csv", "ch_pro_tokens", "billable_metric_code", metric)
    set_cell(folder, "charges.csv", "ch_pro_tokens", "filters", "")
    set_cell(folder, "charges.csv", "ch_pro_tokens", "pay_in_advance", "true")
    assert problems(folder) == [
        (f"charges.csv row {row}: a pay_in_advance charge cannot price a {agg} metric ({LAGO}, billable_metric.rb "
        f"AGGREGATION_TYPES_PAYABLE_IN_ADVANCE: one of ['count_agg', 'sum_agg', 'unique_count_agg'])")]


def test_a_weighted_sum_in_advance_is_refused(tmp_path):
    folder = copy_catalog(tmp_path)
    row = set_cell(folder, "charges.csv", "ch_pro_gpus", "pay_in_advance", "true")
    found = problems(folder)
    assert any(p.startswith(f"charges.csv row {row}: a pay_in_advance charge cannot price a weighted_sum_agg metric")
               for p in found), found


def test_volume_in_advance_is_refused(tmp_path):
    folder = copy_catalog(tmp_path)
    row = set_cell(folder, "charges.csv", "ch_pro_tokens", "charge_model", "volume")
    set_cell(folder, "charges.csv", "ch_pro_tokens", "filters", "")
    set_cell(folder, "charges.csv", "ch_pro_tokens", "properties",
             '{"volume_ranges": [{"from_value": 0, "to_value": null, "per_unit_amount": "1", "flat_amount": "0"}]}')
    set_cell(folder, "charges.csv", "ch_pro_tokens", "pay_in_advance", "true")
    assert problems(folder) == [(f"charges.csv row {row}: a pay_in_advance volume charge is refused ({LAGO}: "
                                f"invalid_aggregation_type_or_charge_model)")]


def test_a_spending_minimum_on_a_pay_in_advance_charge_is_refused(tmp_path):
    """Lago: validate_min_amount_cents; the spending minimum that counts instant fees is the
    plan's minimum commitment (tests/e2e/test_pay_in_advance.py)."""
    folder = copy_catalog(tmp_path)
    row = set_cell(folder, "charges.csv", "ch_pro_tokens", "pay_in_advance", "true")
    set_cell(folder, "charges.csv", "ch_pro_tokens", "min_amount", "10")
    assert problems(folder) == [(f"charges.csv row {row}: min_amount on a pay_in_advance charge is refused (rule: Lago "
                                f"charge.rb validate_min_amount_cents: not_compatible_with_pay_in_advance)")]


def test_invoiceable_false_needs_pay_in_advance(tmp_path):
    folder = copy_catalog(tmp_path)
    add_column(folder, "charges.csv", "invoiceable", {"ch_pro_tokens": "false"})
    row = row_of(folder, "charges.csv", "ch_pro_tokens")
    assert problems(folder) == [(f"charges.csv row {row}: invoiceable=false needs pay_in_advance=true (rule: Lago "
                                f"charge invoiceable must_be_true_unless_pay_in_advance)")]


@pytest.mark.parametrize(("advance", "value", "problem"), [
    ("true", "week", "instant_invoice_grouping='week' is unknown (rule: event or day)"),
    ("false", "day", ("instant_invoice_grouping needs pay_in_advance=true (rule: it groups the invoices of instant "
                     "fees)")),
])
def test_instant_invoice_grouping(tmp_path, advance, value, problem):
    folder = copy_catalog(tmp_path)
    set_cell(folder, "charges.csv", "ch_pro_tokens", "pay_in_advance", advance)
    add_column(folder, "charges.csv", "instant_invoice_grouping", {"ch_pro_tokens": value})
    row = row_of(folder, "charges.csv", "ch_pro_tokens")
    assert problems(folder) == [f"charges.csv row {row}: {problem}"]


@pytest.mark.parametrize("charge", ["ch_pro_seats", "ch_pro_storage"])
def test_pay_in_advance_on_a_recurring_sum_or_unique_count_loads(tmp_path, charge):
    """Lago's period-end run bills the next period's units in advance (invoices/
    calculate_fees_service.rb); Tally too (decision 23)."""
    folder = copy_catalog(tmp_path)
    if charge == "ch_pro_storage":  # a recurring sum: the demo's seats metric made a sum
        set_cell(folder, "billable_metrics.csv", "seats", "aggregation_type", "sum_agg")
        charge = "ch_pro_seats"
    set_cell(folder, "charges.csv", charge, "pay_in_advance", "true")
    assert charges(folder)[charge][4] is True


def test_percentage_in_advance_on_a_recurring_metric_is_not_supported_yet(tmp_path):
    folder = copy_catalog(tmp_path)
    row = set_cell(folder, "charges.csv", "ch_pro_seats", "pay_in_advance", "true")
    set_cell(folder, "charges.csv", "ch_pro_seats", "charge_model", "percentage")
    set_cell(folder, "charges.csv", "ch_pro_seats", "properties", '{"rate": "1"}')
    assert problems(folder) == [
        (f"charges.csv row {row}: pay_in_advance percentage charges on a recurring metric ('seats') are not supported "
         f"yet (rule: a recurring metric in advance needs a model priced by units: each period's opening fee prices "
         f"the units it carries)")]


def test_a_recurring_metric_in_advance_on_a_plan_with_usage_thresholds_is_not_supported_yet(tmp_path):
    folder = copy_catalog(tmp_path)
    row = set_cell(folder, "charges.csv", "ch_scale_api_calls", "billable_metric_code", "seats")
    set_cell(folder, "charges.csv", "ch_scale_api_calls", "pay_in_advance", "true")
    set_cell(folder, "charges.csv", "ch_scale_api_calls", "min_amount", "")
    assert problems(folder) == [
        (f"charges.csv row {row}: pay_in_advance charges on a recurring metric ('seats') on a plan with usage "
         f"thresholds ('scale_usd', usage_thresholds.csv row 2) are not supported yet (rule: the closing invoice's "
         f"progressive-billing credit is capped by its charge lines, which would count the next period's in-advance "
         f"fee)")]
