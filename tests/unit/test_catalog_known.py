"""Every catalog column and file is known (README "Every column and file is known"): an unknown
column or file is refused with its file, row and rule; a Lago option Tally cannot bill yet is
refused as not supported yet; a column that cannot change what is billed loads with a warning
that the run summary lists; unset Lago options (empty, `null`, their default) load silently."""
from __future__ import annotations

import duckdb
import pytest

from orchestration.catalog import validate, write
from orchestration.summary import catalog_warnings
from tests.unit.test_catalog import add_column, copy_catalog, problems, read_csv


def row_of(folder, name: str, key: str) -> int:
    """The row number (header = 1) of the row whose first column is `key`."""
    first = next(iter(read_csv(folder, name)[0]))
    return next(i for i, r in enumerate(read_csv(folder, name), start=2) if r[first] == key)


# ---------------------------------------------------------------- unknown columns and files

def test_an_unknown_column_is_refused_with_its_file_and_rule(tmp_path):
    folder = copy_catalog(tmp_path)
    add_column(folder, "charges.csv", "discount_rate", {"ch_pro_seats": "10"})
    [problem] = problems(folder)
    assert problem.startswith("charges.csv row 1: column 'discount_rate' is unknown (rule: the columns of "
                              "charges.csv are ['id', 'plan_code', ")
    assert "so it is refused, not ignored" in problem


def test_an_unknown_column_is_refused_even_when_empty(tmp_path):
    folder = copy_catalog(tmp_path)
    add_column(folder, "customers.csv", "billing_entity_code", {})
    [problem] = problems(folder)
    assert problem.startswith("customers.csv row 1: column 'billing_entity_code' is unknown")


@pytest.mark.parametrize("name", ["commitments.csv", "notes.txt", "Charges.csv"])
def test_an_unknown_file_is_refused(tmp_path, name):
    folder = copy_catalog(tmp_path)
    (folder / name).write_text("a,b\n1,2\n", encoding="utf-8")
    [problem] = problems(folder)
    assert problem.startswith(f"{name}: file is unknown (rule: a catalog folder holds only customers.csv, ")


def test_an_unknown_folder_is_refused_and_hidden_files_are_left_alone(tmp_path):
    folder = copy_catalog(tmp_path)
    (folder / "old").mkdir()
    (folder / ".DS_Store").write_bytes(b"\0\1")
    assert problems(folder) == [problems(folder)[0]]
    assert problems(folder)[0].startswith("old: folder is unknown")


# ---------------------------------------------------------------- Lago files Tally cannot bill yet
# (fixed_charges.csv, add_ons.csv and one_off_invoices.csv were refused here until they were billed:
# their rules are in tests/unit/test_catalog_fixed.py)

# ---------------------------------------------------------------- Lago options Tally cannot bill yet

@pytest.mark.parametrize(("name", "key", "column", "value", "what"), [
    ("charges.csv", "ch_pro_seats", "regroup_paid_fees", "invoice", "regrouping paid fees"),
    ("plans.csv", "starter_usd", "bill_charges_monthly", "true", "billing a yearly plan's charges monthly"),
    ("billable_metrics.csv", "tokens", "expression", "round(event.properties.tokens / 1000)",
     "computed fields (Lago billable_metric.expression)"),
    ("billable_metrics.csv", "tokens", "weighted_interval", "hours", "a weighted interval other than seconds"),
])
def test_a_lago_option_tally_cannot_bill_yet_is_refused_on_its_row(tmp_path, name, key, column, value, what):
    folder = copy_catalog(tmp_path)
    add_column(folder, name, column, {key: value})
    row = row_of(folder, name, key)
    [problem] = problems(folder)
    assert problem.startswith(f"{name} row {row}: {column}={value!r} is not supported yet ({what}")
    assert f"rule: {column} must be empty" in problem


def test_pay_in_advance_on_a_recurring_metric_loads(tmp_path):
    """Lago bills it (the next period's fee at each period end); so does Tally (decision 23,
    tests/unit/test_catalog_in_advance.py for what stays refused)."""
    folder = copy_catalog(tmp_path)
    from tests.unit.test_catalog import set_cell
    set_cell(folder, "charges.csv", "ch_pro_seats", "pay_in_advance", "true")
    charges = {r[0]: r for r in validate(folder).tables["charges"][1]}
    assert charges["ch_pro_seats"][4] is True


def test_lago_options_unset_or_at_their_default_load_without_a_word(tmp_path):
    """A Lago export writes every option: false, true (invoiceable), seconds, null or empty."""
    folder = copy_catalog(tmp_path)
    add_column(folder, "charges.csv", "prorated", {"ch_pro_seats": "false", "ch_pro_gpus": "NULL"})
    add_column(folder, "charges.csv", "invoiceable", {"ch_pro_seats": "true", "ch_pro_gpus": "null"})
    add_column(folder, "charges.csv", "regroup_paid_fees", {"ch_pro_seats": "null"})
    add_column(folder, "plans.csv", "bill_charges_monthly", {"starter_usd": "false"})
    add_column(folder, "plans.csv", "bill_fixed_charges_monthly", {})
    add_column(folder, "billable_metrics.csv", "expression", {"tokens": "null"})
    add_column(folder, "billable_metrics.csv", "weighted_interval", {"tokens": "seconds"})
    cat = validate(folder)
    assert cat.warnings == []
    assert validate(copy_catalog(tmp_path / "plain")).tables == cat.tables


# ---------------------------------------------------------------- ignored columns: a warning each

def test_ignored_columns_load_with_one_warning_each_in_the_run_summary(tmp_path):
    folder = copy_catalog(tmp_path)
    add_column(folder, "plans.csv", "description", {"starter_usd": "For small teams"})
    add_column(folder, "customers.csv", "email", {"cus_001": "ops@example.com"})
    add_column(folder, "charges.csv", "lago_id", {"ch_pro_seats": "1b2c"})
    cat = validate(folder)
    plain = validate(copy_catalog(tmp_path / "plain"))
    assert cat.tables == plain.tables  # nothing billed changes
    ignored = "is ignored (display or Lago bookkeeping only: it does not change what is billed)"
    assert cat.warnings == [f"customers.csv: column 'email' {ignored}", f"plans.csv: column 'description' {ignored}",
                            f"charges.csv: column 'lago_id' {ignored}"]
    con = duckdb.connect()
    write(con, cat)
    assert catalog_warnings(con) == cat.warnings
    write(con, plain)  # the next load replaces them
    assert catalog_warnings(con) == []


def test_problems_and_warnings_come_together(tmp_path):
    """An ignored column never hides a refused one: every problem is listed at once."""
    folder = copy_catalog(tmp_path)
    add_column(folder, "plans.csv", "description", {})
    add_column(folder, "charges.csv", "invoiceable", {"ch_pro_seats": "false", "ch_pro_gpus": "false"})
    with (folder / "add_ons.csv").open("a", encoding="utf-8") as fh:  # the demo's 3 add-ons, then a 4th
        fh.write("setup,Setup,-1,USD,,\n")
    found = problems(folder)
    rows = sorted(row_of(folder, "charges.csv", key) for key in ("ch_pro_seats", "ch_pro_gpus"))
    assert sorted(p.split(":")[0] for p in found) == ["add_ons.csv row 5"] + [f"charges.csv row {row}" for row in rows]
    assert sum("invoiceable=false needs pay_in_advance=true" in p for p in found) == 2


# ---------------------------------------------------------------- dynamic charges (Lago charge.rb#validate_dynamic)

def test_a_dynamic_charge_on_a_sum_metric_loads_with_no_properties(tmp_path):
    """No price: the amount comes with the events. Properties may be empty, `{}` or carry
    pricing_group_keys; a filter's properties may be empty too."""
    from tests.unit.test_catalog import set_cell
    folder = copy_catalog(tmp_path)
    set_cell(folder, "charges.csv", "ch_pro_tokens", "charge_model", "dynamic")
    set_cell(folder, "charges.csv", "ch_pro_tokens", "properties", '{"pricing_group_keys": ["region"]}')
    set_cell(folder, "charges.csv", "ch_dev_tokens", "charge_model", "dynamic")
    set_cell(folder, "charges.csv", "ch_dev_tokens", "properties", "")
    cat = validate(folder)
    charges = {r[0]: r for r in cat.tables["charges"][1]}
    assert charges["ch_pro_tokens"][3] == "dynamic" and charges["ch_pro_tokens"][8] == "region"
    assert charges["ch_dev_tokens"][3] == "dynamic"
    buckets = [b for b in cat.tables["charge_buckets"][1] if b[0] == "ch_pro_tokens"]
    assert [(b[1], b[2]) for b in buckets] == [(0, "Tokens"), (1, "Large model tokens")]


@pytest.mark.parametrize("metric", ["api_calls", "storage_gb", "fine_tuned_models", "seats", "gpus"])
def test_a_dynamic_charge_on_another_aggregation_is_refused(tmp_path, metric):
    from tests.unit.test_catalog import set_cell
    folder = copy_catalog(tmp_path)
    row = set_cell(folder, "charges.csv", "ch_pro_tokens", "billable_metric_code", metric)
    set_cell(folder, "charges.csv", "ch_pro_tokens", "charge_model", "dynamic")
    set_cell(folder, "charges.csv", "ch_pro_tokens", "filters", "")
    agg = {r["code"]: r["aggregation_type"] for r in read_csv(folder, "billable_metrics.csv")}[metric]
    rule = "(rule: only sum_agg, as Lago)"
    assert problems(folder) == [f"charges.csv row {row}: dynamic cannot price a {agg} metric {rule}"]


def test_a_dynamic_charge_on_a_recurring_sum_or_in_advance_is_refused(tmp_path):
    from tests.unit.test_catalog import set_cell
    folder = copy_catalog(tmp_path)
    row = set_cell(folder, "charges.csv", "ch_pro_tokens", "charge_model", "dynamic")
    set_cell(folder, "charges.csv", "ch_pro_tokens", "pay_in_advance", "true")
    set_cell(folder, "billable_metrics.csv", "tokens", "recurring", "true")
    found = problems(folder)
    assert (f"charges.csv row {row}: pay_in_advance dynamic charges are not supported yet (rule: pay_in_advance "
            f"needs one of ['graduated', 'graduated_percentage', 'package', 'percentage', 'standard'])") in found
    assert (f"charges.csv row {row}: dynamic on a recurring metric ('tokens') is not supported yet (rule: its metric "
            f"must not be recurring)") in found


def test_a_property_the_model_does_not_read_loads_with_a_warning(tmp_path):
    """Lago keeps only each model's own keys (charges/filter_charge_model_properties_service.rb):
    another key bills nothing in Lago either, but may be a typo; unset keys say nothing."""
    from tests.unit.test_catalog import set_cell
    folder = copy_catalog(tmp_path)
    row = set_cell(folder, "charges.csv", "ch_pro_tokens", "properties",
                   '{"amount": "0.000002", "free_units": "1000", "package_size": null, "pricing_group_keys": [], '
                   '"presentation_group_keys": ["region"]}')
    cat = validate(folder)
    why = "(standard does not read it; Lago drops it too)"
    assert cat.warnings == [f"charges.csv row {row}: properties.free_units is ignored {why}",
                            f"charges.csv row {row}: properties.presentation_group_keys is ignored {why}"]


# ---------------------------------------------------------------- prorated charges (Lago charge.rb#validate_prorated)

PRORATED_RULE = ("rule: prorated needs a recurring sum_agg or unique_count_agg metric and the standard, graduated "
                 "or volume model in arrears, standard in advance, as Lago's charge.rb validate_prorated")


def test_a_prorated_charge_on_a_recurring_unique_count_loads(tmp_path):
    folder = copy_catalog(tmp_path)
    add_column(folder, "charges.csv", "prorated", {"ch_pro_seats": "true"})
    charges = {r[0]: r for r in validate(folder).tables["charges"][1]}
    assert charges["ch_pro_seats"][-3] is True and charges["ch_pro_gpus"][-3] is False


@pytest.mark.parametrize(("charge", "edit", "problem"), [
    # a weighted sum is refused by Lago (it is already prorated)
    ("ch_pro_gpus", {}, "prorated cannot price a weighted_sum_agg metric"),
    # a metric that is not recurring
    ("ch_pro_tokens", {}, "prorated needs a recurring metric; 'tokens' is not recurring"),
    # a model Lago refuses (package, percentage, graduated_percentage, dynamic)
    ("ch_pro_seats", {"charge_model": "package",
                      "properties": '{"amount": "5", "package_size": 10}'}, "prorated package charges are refused"),
])
def test_a_prorated_charge_lago_refuses_is_refused_on_its_row(tmp_path, charge, edit, problem):
    from tests.unit.test_catalog import set_cell
    folder = copy_catalog(tmp_path)
    for column, value in edit.items():
        set_cell(folder, "charges.csv", charge, column, value)
    add_column(folder, "charges.csv", "prorated", {charge: "true"})
    row = row_of(folder, "charges.csv", charge)
    found = problems(folder)
    assert any(p.startswith(f"charges.csv row {row}: {problem}") and PRORATED_RULE in p for p in found), found


def test_prorated_and_pay_in_advance_loads_for_standard_only(tmp_path):
    """Lago's charge.rb validate_prorated: in advance, standard only (a seat billed as it is added,
    prorated by the days left: decision 23); prorated graduated in advance is refused."""
    from tests.unit.test_catalog import set_cell
    folder = copy_catalog(tmp_path)
    set_cell(folder, "charges.csv", "ch_pro_seats", "pay_in_advance", "true")
    add_column(folder, "charges.csv", "prorated", {"ch_pro_seats": "true"})
    charges = {r[0]: r for r in validate(folder).tables["charges"][1]}
    assert (charges["ch_pro_seats"][4], charges["ch_pro_seats"][-3]) == (True, True)
    row = set_cell(folder, "charges.csv", "ch_pro_seats", "charge_model", "graduated")
    set_cell(folder, "charges.csv", "ch_pro_seats", "properties", ('{"graduated_ranges": [{"from_value": 0, '
             '"to_value": null, "per_unit_amount": "1", "flat_amount": "0"}]}'))
    assert problems(folder) == [(f"charges.csv row {row}: prorated pay_in_advance graduated charges are refused "
                                f"({PRORATED_RULE})")]


def test_prorated_on_a_plan_with_usage_thresholds_is_refused(tmp_path):
    """Progressive billing does not count prorated units yet: refused, not billed another way."""
    from tests.unit.test_catalog import set_cell
    folder = copy_catalog(tmp_path)
    row = set_cell(folder, "charges.csv", "ch_scale_api_calls", "billable_metric_code", "seats")
    add_column(folder, "charges.csv", "prorated", {"ch_scale_api_calls": "true"})
    assert problems(folder) == [
        (f"charges.csv row {row}: prorated charges on a plan with usage thresholds ('scale_usd', usage_thresholds.csv "
         f"row 2) are not supported yet (rule: progressive billing does not count prorated units)")]
