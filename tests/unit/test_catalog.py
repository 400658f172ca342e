"""Catalog validation and flattening (SPEC §3): the demo catalog loads; every broken rule is refused
with a message naming the file, the row (header = row 1) and the rule; flattening is exact."""
from __future__ import annotations

import csv
import json
import shutil
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from orchestration.catalog import CatalogError, load, validate
from tests.helpers import REPO, SMALL_CATALOG

DEMO = REPO / "seeds" / "catalog"
MODELS = "['dynamic', 'graduated', 'graduated_percentage', 'package', 'percentage', 'standard', 'volume']"
AGGS = "['count_agg', 'latest_agg', 'max_agg', 'sum_agg', 'unique_count_agg', 'weighted_sum_agg']"
RANGE_RULE = "(rule: each range starts at the previous to_value or to_value + 1)"


# ---------------------------------------------------------------- helpers

def read_csv(folder: Path, name: str) -> list[dict[str, str]]:
    with (folder / name).open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def copy_catalog(tmp_path: Path) -> Path:
    """The demo catalog without its taxes (customers' and plans' tax codes, taxes.csv), so that
    each test sets exactly the taxes it is about."""
    folder = tmp_path / "catalog"
    shutil.copytree(DEMO, folder)
    for name in ("customers.csv", "plans.csv"):
        with (folder / name).open(newline="", encoding="utf-8") as fh:
            table = list(csv.DictReader(fh))
        fields = [f for f in table[0] if not (name == "plans.csv" and f == "tax_codes")]
        with (folder / name).open("w", newline="", encoding="utf-8") as fh:
            writer = csv.DictWriter(fh, fieldnames=fields, extrasaction="ignore", lineterminator="\n")
            writer.writeheader()
            writer.writerows({**r, "tax_codes": ""} if name == "customers.csv" else r for r in table)
    (folder / "taxes.csv").write_text("code,name,rate,applied_by_default\n", encoding="utf-8")
    return folder


def set_cell(folder: Path, name: str, key: str, column: str, value: str) -> int:
    """Set `column` of the row whose first column is `key`; return its row number (header = row 1)."""
    with (folder / name).open(newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    header = rows[0]
    [index] = [i for i, r in enumerate(rows) if i > 0 and r[0] == key]
    rows[index][header.index(column)] = value
    with (folder / name).open("w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows(rows)
    return index + 1


def broken(tmp_path: Path, name: str, key: str, column: str, value) -> tuple[Path, int]:
    """A copy of the demo catalog with one cell changed (dicts/lists are written as JSON)."""
    folder = copy_catalog(tmp_path)
    if not isinstance(value, str):
        value = json.dumps(value)
    return folder, set_cell(folder, name, key, column, value)


def write_csv(folder: Path, name: str, *lines: str) -> None:
    """Write a catalog file from its header line and data lines, as given."""
    (folder / name).write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")


def add_column(folder: Path, name: str, column: str, values: dict[str, str]) -> None:
    """Append `column` to a file (or set it, when the file has it): a row gets values[its first
    column], else the value it had, or empty."""
    with (folder / name).open(newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    if column in rows[0]:
        at = rows[0].index(column)
        rows = [rows[0]] + [r[:at] + [values.get(r[0], r[at])] + r[at + 1:] for r in rows[1:]]
    else:
        rows = [rows[0] + [column]] + [r + [values.get(r[0], "")] for r in rows[1:]]
    with (folder / name).open("w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows(rows)


def optional_csv(folder: Path, name: str) -> list[dict[str, str]]:
    return read_csv(folder, name) if (folder / name).exists() else []


def codes(text: str | None) -> list[str]:
    return [c.strip() for c in (text or "").split(";") if c.strip()]


def problems(folder: Path) -> list[str]:
    with pytest.raises(CatalogError) as info:
        validate(folder)
    assert str(info.value) == "pricing catalog refused:\n  " + "\n  ".join(info.value.problems)
    return info.value.problems


def graduated(*ranges: tuple) -> dict:
    return {"graduated_ranges": [{"from_value": f, "to_value": t, "per_unit_amount": p, "flat_amount": "0"}
                                 for f, t, p in ranges]}


def query(con: duckdb.DuckDBPyConnection, sql: str) -> list[tuple]:
    return con.execute(sql).fetchall()


# ---------------------------------------------------------------- the demo catalog

def expected_counts(folder: Path) -> dict[str, int]:
    """Row counts of every flattened table, computed from the CSVs independently of catalog.py."""
    metrics = read_csv(folder, "billable_metrics.csv")
    charges = read_csv(folder, "charges.csv")
    fixed = optional_csv(folder, "fixed_charges.csv")
    buckets = tiers = filter_values = 0
    for c in charges:
        props = json.loads(c["properties"])
        filters = json.loads(c["filters"]) if c["filters"] else []
        buckets += 1 + len(filters)
        for p in [props] + [f.get("properties") or props for f in filters]:
            tiers += sum(len(v) for k, v in p.items() if k.endswith("_ranges"))
        for f in filters:
            filter_values += sum(len(v) if isinstance(v, list) else 1 for v in f["values"].values())
    return {
        "customers": len(read_csv(folder, "customers.csv")),
        "billable_metrics": len(metrics),
        "billable_metric_filters": sum(len(v) for m in metrics if m["filters"]
                                       for v in json.loads(m["filters"]).values()),
        "plans": len(read_csv(folder, "plans.csv")),
        "charges": len(charges),
        "charge_buckets": buckets,
        "charge_tiers": tiers,
        "charge_filter_values": filter_values,
        "usage_thresholds": len(optional_csv(folder, "usage_thresholds.csv")),
        "subscriptions": len(read_csv(folder, "subscriptions.csv")),
        "taxes": len(optional_csv(folder, "taxes.csv")),
        "customer_taxes": sum(len(codes(c["tax_codes"])) for c in read_csv(folder, "customers.csv")),
        "plan_taxes": sum(len(codes(p.get("tax_codes"))) for p in read_csv(folder, "plans.csv")),
        "charge_taxes": sum(len(codes(c.get("tax_codes"))) for c in charges),
        "wallets": len(optional_csv(folder, "wallets.csv")),
        "wallet_transactions": len(optional_csv(folder, "wallet_transactions.csv")),
        "coupons": len(optional_csv(folder, "coupons.csv")),
        "applied_coupons": len(optional_csv(folder, "applied_coupons.csv")),
        "fx_rates": len(optional_csv(folder, "fx_rates.csv")),
        # fixed charges, add-ons and one-off invoices (tests/unit/test_catalog_fixed.py)
        "add_ons": len(optional_csv(folder, "add_ons.csv")),
        "add_on_taxes": sum(len(codes(a.get("tax_codes"))) for a in optional_csv(folder, "add_ons.csv")),
        "fixed_charges": len(fixed),
        "fixed_charge_tiers": sum(len(json.loads(f["properties"]).get(f"{f['charge_model']}_ranges", []))
                                  for f in fixed),
        "fixed_charge_taxes": sum(len(codes(f.get("tax_codes"))) for f in fixed),
        "fixed_charge_units": len(optional_csv(folder, "fixed_charge_units.csv")),
        "one_off_invoices": len(optional_csv(folder, "one_off_invoices.csv")),
        # usage alerts (tests/unit/test_catalog_alerts.py)
        "alerts": len(optional_csv(folder, "alerts.csv")),
        "alert_thresholds": sum(len(json.loads(a["thresholds"])) for a in optional_csv(folder, "alerts.csv")),
    }


def test_demo_catalog_loads_with_exact_row_counts():
    expected = expected_counts(DEMO)
    # The counts are also plain line counts of the files (header = 1 line, no multi-line cells).
    for table, name in [("customers", "customers.csv"), ("plans", "plans.csv"), ("charges", "charges.csv"),
                        ("subscriptions", "subscriptions.csv"), ("billable_metrics", "billable_metrics.csv")]:
        assert expected[table] == len((DEMO / name).read_text(encoding="utf-8").splitlines()) - 1
    con = duckdb.connect(":memory:")
    assert load(con, DEMO) == expected
    actual = {t: query(con, f"select count(*) from catalog.{t}")[0][0] for t in expected}
    assert actual == expected
    assert sorted(r[0] for r in query(con, "select table_name from information_schema.tables "
                                           "where table_schema = 'catalog'")) == sorted(expected)


def test_demo_catalog_flattens_ranges_and_metric_filters():
    con = duckdb.connect(":memory:")
    load(con, DEMO)
    assert query(con, "select tier_index, from_value::varchar, to_value::varchar, per_unit_amount::double, "
                      "flat_amount::double, rate::double from catalog.charge_tiers "
                      "where charge_id = 'ch_growth_storage' order by tier_index") == [
        (1, "0.0000000000", "100.0000000000", 0.09, 0.0, 0.0),
        (2, "101.0000000000", None, 0.07, 5.0, 0.0)]
    assert query(con, "select * from catalog.billable_metric_filters order by filter_value") == [
        ("tokens", "model", "large"), ("tokens", "model", "small")]
    assert query(con, "select charge_id, is_adjacent from catalog.charge_buckets "
                      "where charge_id = 'ch_starter_tokens'") == [("ch_starter_tokens", False)]


# ---------------------------------------------------------------- one broken row, one rule

def test_unknown_charge_model(tmp_path):
    folder, row = broken(tmp_path, "charges.csv", "ch_pro_seats", "charge_model", "tiered")
    assert problems(folder) == [f"charges.csv row {row}: charge_model 'tiered' is unknown (rule: one of {MODELS})"]


def test_graduated_ranges_with_a_gap(tmp_path):
    folder, row = broken(tmp_path, "charges.csv", "ch_starter_api_calls", "properties",
                         graduated((0, 10000, "0"), (10002, None, "0.002")))
    assert problems(folder) == [(f"charges.csv row {row}: graduated_ranges have a gap between to_value 10000 "
                                f"and from_value 10002 {RANGE_RULE}")]


def test_ranges_that_overlap(tmp_path):
    folder, row = broken(tmp_path, "charges.csv", "ch_pro_storage", "properties", {"volume_ranges": [
        {"from_value": 0, "to_value": 100, "per_unit_amount": "0.10", "flat_amount": "0"},
        {"from_value": 50, "to_value": None, "per_unit_amount": "0.08", "flat_amount": "0"}]})
    assert problems(folder) == [(f"charges.csv row {row}: volume_ranges have a overlap between to_value 100 "
                                f"and from_value 50 {RANGE_RULE}")]


def test_last_range_not_open_ended(tmp_path):
    folder, row = broken(tmp_path, "charges.csv", "ch_starter_api_calls", "properties",
                         graduated((0, 10000, "0"), (10001, 20000, "0.002")))
    assert problems(folder) == [(f"charges.csv row {row}: the last of graduated_ranges must have to_value null "
                                f"(rule: last range is open)")]


def test_charge_on_a_metric_that_does_not_exist(tmp_path):
    folder, row = broken(tmp_path, "charges.csv", "ch_pro_seats", "billable_metric_code", "seatz")
    assert problems(folder) == [(f"charges.csv row {row}: billable_metric_code 'seatz' does not exist "
                                f"in billable_metrics.csv")]


def test_subscription_plan_currency_differs_from_customer(tmp_path):
    folder, row = broken(tmp_path, "subscriptions.csv", "sub_001", "plan_code", "growth_eur")
    assert row == 2
    assert problems(folder) == [("subscriptions.csv row 2: customer 'cus_001' pays in USD but plan 'growth_eur' "
                                "is in EUR (rule: customer and plan currency must match)")]


def test_customer_currency_differs_from_its_plans(tmp_path):
    folder, _ = broken(tmp_path, "customers.csv", "cus_012", "currency", "EUR")
    subs = [(i + 2, s) for i, s in enumerate(read_csv(folder, "subscriptions.csv"))
            if s["external_customer_id"] == "cus_012"]
    assert len(subs) == 2
    assert problems(folder) == [f"subscriptions.csv row {line}: customer 'cus_012' pays in EUR but plan "
                                f"'{s['plan_code']}' is in USD (rule: customer and plan currency must match)"
                                for line, s in subs]


def test_negative_plan_amount(tmp_path):
    folder, row = broken(tmp_path, "plans.csv", "starter_usd", "amount", "-49.00")
    assert row == 2
    assert problems(folder) == [("plans.csv row 2: amount='-49.00' is negative "
                                "(rule: prices and amounts are >= 0)")]


@pytest.mark.parametrize("value", ["inf", "-1", "1.5", "1e400", "NaN", "36501", "two weeks"])
def test_a_trial_period_that_is_not_whole_days_is_refused_not_truncated(tmp_path, value):
    folder, row = broken(tmp_path, "plans.csv", "starter_usd", "trial_period", value)
    assert problems(folder) == [(f"plans.csv row {row}: trial_period={value!r} must be a whole number of days "
                                 "from 0 to 36500")]


@pytest.mark.parametrize(("value", "days"), [("14.0", 14), ("0", 0), ("", 0), ("36500", 36500)])
def test_a_trial_period_in_whole_days_loads(tmp_path, value, days):
    folder, _ = broken(tmp_path, "plans.csv", "starter_usd", "trial_period", value)
    con = duckdb.connect()
    load(con, folder)
    assert query(con, "select trial_period from catalog.plans where code = 'starter_usd'") == [(days,)]


def test_negative_per_unit_amount_in_graduated_ranges(tmp_path):
    folder, row = broken(tmp_path, "charges.csv", "ch_starter_api_calls", "properties",
                         graduated((0, 10000, "0"), (10001, None, "-0.002")))
    assert problems(folder) == [(f"charges.csv row {row}: graduated_ranges[1].per_unit_amount='-0.002' is negative "
                                f"(rule: prices and amounts are >= 0)")]


def test_unknown_aggregation_type(tmp_path):
    folder, row = broken(tmp_path, "billable_metrics.csv", "tokens", "aggregation_type", "avg_agg")
    assert problems(folder) == [(f"billable_metrics.csv row {row}: aggregation_type 'avg_agg' is unknown "
                                f"(rule: one of {AGGS})")]


def test_recurring_count_agg_metric(tmp_path):
    folder, row = broken(tmp_path, "billable_metrics.csv", "api_calls", "recurring", "true")
    assert row == 2
    assert problems(folder) == [("billable_metrics.csv row 2: count_agg cannot be recurring "
                                "(rule: only sum, unique_count, weighted_sum)")]


def test_bad_timezone(tmp_path):
    folder, row = broken(tmp_path, "customers.csv", "cus_003", "timezone", "Mars/Olympus_Mons")
    assert row == 4
    assert problems(folder) == ["customers.csv row 4: timezone 'Mars/Olympus_Mons' is not an IANA time zone name"]


def test_unknown_currency_code(tmp_path):
    folder, row = broken(tmp_path, "customers.csv", "cus_001", "currency", "XYZ")
    assert row == 2
    # The unknown code is refused on the customer's row, and its subscription no longer matches its plan.
    assert problems(folder) == [
        "customers.csv row 2: currency 'XYZ' is not a known ISO 4217 code",
        ("subscriptions.csv row 2: customer 'cus_001' pays in XYZ but plan 'starter_usd' is in USD "
        "(rule: customer and plan currency must match)")]


def test_package_size_zero(tmp_path):
    folder, row = broken(tmp_path, "charges.csv", "ch_pro_api_calls", "properties",
                         {"amount": "1.50", "package_size": 0, "free_units": 2000})
    assert problems(folder) == [f"charges.csv row {row}: properties.package_size=0 must be a whole number > 0"]


def test_malformed_json_in_properties(tmp_path):
    folder, row = broken(tmp_path, "charges.csv", "ch_pro_seats", "properties", '{"amount": "25.00"')
    # The unreadable properties leave the standard model without its amount: both are reported.
    assert problems(folder) == [f"charges.csv row {row}: properties is not valid JSON (Expecting ',' delimiter)",
                                f"charges.csv row {row}: properties.amount is required"]


def test_duplicate_charge_id(tmp_path):
    folder, row = broken(tmp_path, "charges.csv", "ch_pro_seats", "id", "ch_pro_gpus")
    first = 2 + [c["id"] for c in read_csv(DEMO, "charges.csv")].index("ch_pro_gpus")
    assert problems(folder) == [f"charges.csv row {row}: duplicate id 'ch_pro_gpus' (first at row {first})"]


def test_subscription_on_unknown_plan(tmp_path):
    folder, _row = broken(tmp_path, "subscriptions.csv", "sub_001", "plan_code", "gold_usd")
    assert problems(folder) == ["subscriptions.csv row 2: plan_code 'gold_usd' does not exist in plans.csv"]


def test_charge_filter_key_not_declared_by_metric(tmp_path):
    folder, row = broken(tmp_path, "charges.csv", "ch_pro_tokens", "filters",
                         [{"values": {"region": ["eu"]}, "properties": {"amount": "0.00001"}}])
    assert problems(folder) == [f"charges.csv row {row}: filters[0] key 'region' is not a filter of metric 'tokens'"]


def test_charge_filter_value_not_declared_by_metric(tmp_path):
    folder, row = broken(tmp_path, "charges.csv", "ch_pro_tokens", "filters",
                         [{"values": {"model": ["huge"]}, "properties": {"amount": "0.00001"}}])
    assert problems(folder) == [f"charges.csv row {row}: filters[0] value 'huge' is not allowed for 'model'"]


def test_missing_file(tmp_path):
    folder = copy_catalog(tmp_path)
    (folder / "subscriptions.csv").unlink()
    (folder / "fixed_charge_units.csv").unlink()  # it names subscriptions too
    (folder / "alerts.csv").unlink()  # and so does it
    assert problems(folder) == [(f"subscriptions.csv: file is missing from {folder} (rule: the catalog needs "
                                f"customers.csv, billable_metrics.csv, plans.csv, charges.csv, subscriptions.csv)")]


def test_missing_customers_file_also_orphans_subscriptions(tmp_path):
    folder = copy_catalog(tmp_path)
    (folder / "customers.csv").unlink()
    for optional in ("wallets.csv", "wallet_transactions.csv", "applied_coupons.csv",  # they name customers too
                     "one_off_invoices.csv"):
        (folder / optional).unlink()
    subs = read_csv(folder, "subscriptions.csv")
    assert problems(folder) == (
        [(f"customers.csv: file is missing from {folder} (rule: the catalog needs "
         f"customers.csv, billable_metrics.csv, plans.csv, charges.csv, subscriptions.csv)")]
        + [f"subscriptions.csv row {i + 2}: external_customer_id {s['external_customer_id']!r} does not exist "
           f"in customers.csv" for i, s in enumerate(subs)])


def test_too_many_pricing_group_keys(tmp_path):
    folder, row = broken(tmp_path, "charges.csv", "ch_pro_seats", "properties",
                         {"amount": "25.00", "pricing_group_keys": ["a", "b", "c", "d"]})
    assert problems(folder) == [f"charges.csv row {row}: at most 3 pricing_group_keys are supported"]


# ---------------------------------------------------------------- all problems at once

def test_every_problem_is_reported_at_once(tmp_path):
    folder = copy_catalog(tmp_path)
    tz_row = set_cell(folder, "customers.csv", "cus_002", "timezone", "Nowhere/City")
    agg_row = set_cell(folder, "billable_metrics.csv", "storage_gb", "aggregation_type", "median_agg")
    plan_row = set_cell(folder, "plans.csv", "pro_usd", "amount", "-1")
    model_row = set_cell(folder, "charges.csv", "ch_dev_tokens", "charge_model", "tiered")
    gap_row = set_cell(folder, "charges.csv", "ch_team_api_calls", "properties",
                       json.dumps(graduated((0, 10, "0"), (12, None, "0.3"))))
    sub_row = set_cell(folder, "subscriptions.csv", "sub_003", "plan_code", "nope")
    assert problems(folder) == [
        f"customers.csv row {tz_row}: timezone 'Nowhere/City' is not an IANA time zone name",
        f"billable_metrics.csv row {agg_row}: aggregation_type 'median_agg' is unknown (rule: one of {AGGS})",
        f"plans.csv row {plan_row}: amount='-1' is negative (rule: prices and amounts are >= 0)",
        f"charges.csv row {model_row}: charge_model 'tiered' is unknown (rule: one of {MODELS})",
        f"charges.csv row {gap_row}: graduated_ranges have a gap between to_value 10 and from_value 12 {RANGE_RULE}",
        f"subscriptions.csv row {sub_row}: plan_code 'nope' does not exist in plans.csv",
    ]


def test_refused_catalog_leaves_previous_tables_untouched(tmp_path):
    con = duckdb.connect(":memory:")
    counts = load(con, DEMO)
    folder, _ = broken(tmp_path, "plans.csv", "starter_usd", "amount", "-1")
    with pytest.raises(CatalogError):
        load(con, folder)
    assert query(con, "select count(*) from catalog.customers")[0][0] == counts["customers"]
    assert query(con, "select amount::varchar from catalog.plans where code = 'starter_usd'") == [("49.0000000000",)]


# ---------------------------------------------------------------- flattening

def test_charge_filters_give_one_bucket_each_plus_filter_zero():
    con = duckdb.connect(":memory:")
    load(con, DEMO)
    assert query(con, "select filter_index, invoice_display_name, amount::varchar, is_adjacent "
                      "from catalog.charge_buckets where charge_id = 'ch_ent_tokens' order by filter_index") == [
        (0, "Tokens", "0.0000030000", False),
        (1, "Large model tokens", "0.0000080000", False),
        (2, "Small model tokens", "0.0000015000", False)]
    assert query(con, "select filter_index, filter_key, filter_value from catalog.charge_filter_values "
                      "where charge_id = 'ch_ent_tokens' order by filter_index") == [
        (1, "model", "large"), (2, "model", "small")]
    assert query(con, "select filter_index from catalog.charge_buckets where charge_id = 'ch_pro_seats'") == [(0,)]


def test_filter_with_ranges_gets_its_own_tiers(tmp_path):
    folder, _ = broken(tmp_path, "charges.csv", "ch_starter_tokens", "filters", [
        {"invoice_display_name": "Large", "values": {"model": ["large", "small"]},
         "properties": graduated((0, 10, "1"), (11, None, "2"))}])
    con = duckdb.connect(":memory:")
    load(con, folder)
    assert query(con, "select filter_index, tier_index, from_value::int, to_value::int, per_unit_amount::int "
                      "from catalog.charge_tiers where charge_id = 'ch_starter_tokens' and filter_index = 1 "
                      "order by tier_index") == [(1, 1, 0, 10, 1), (1, 2, 11, None, 2)]
    assert query(con, "select filter_index, filter_key, filter_value from catalog.charge_filter_values "
                      "where charge_id = 'ch_starter_tokens' order by filter_value") == [
        (1, "model", "large"), (1, "model", "small")]


@pytest.mark.parametrize("ranges, adjacent, tiers", [
    (((0, 0.1, "0.5"), (0.1, 1, "0.4"), (1, None, "0.3")), True,
     [(1, "0.0000000000", "0.1000000000"), (2, "0.1000000000", "1.0000000000"), (3, "1.0000000000", None)]),
    (((0, 10, "0.5"), (11, 20, "0.4"), (21, None, "0.3")), False,
     [(1, "0.0000000000", "10.0000000000"), (2, "11.0000000000", "20.0000000000"), (3, "21.0000000000", None)]),
], ids=["lago-decimal-adjacent", "plus-one"])
def test_is_adjacent(tmp_path, ranges, adjacent, tiers):
    folder, _ = broken(tmp_path, "charges.csv", "ch_starter_api_calls", "properties", graduated(*ranges))
    con = duckdb.connect(":memory:")
    load(con, folder)
    assert query(con, "select is_adjacent from catalog.charge_buckets "
                      "where charge_id = 'ch_starter_api_calls'") == [(adjacent,)]
    assert query(con, "select tier_index, from_value::varchar, to_value::varchar from catalog.charge_tiers "
                      "where charge_id = 'ch_starter_api_calls' order by tier_index") == tiers


def test_pricing_group_keys_fill_three_columns(tmp_path):
    folder, _ = broken(tmp_path, "charges.csv", "ch_pro_seats", "properties",
                       {"amount": "25.00", "pricing_group_keys": ["region", "team", "project"]})
    con = duckdb.connect(":memory:")
    load(con, folder)
    sql = ("select charge_id, pricing_group_key_1, pricing_group_key_2, pricing_group_key_3 from catalog.charges "
           "where charge_id in ('ch_pro_seats', 'ch_growth_api_calls', 'ch_pro_gpus') order by charge_id")
    assert query(con, sql) == [("ch_growth_api_calls", "region", None, None),
                               ("ch_pro_gpus", None, None, None),
                               ("ch_pro_seats", "region", "team", "project")]
    assert query(con, "select properties from catalog.charges where charge_id = 'ch_pro_seats'") == [
        ('{"amount": "25.00", "pricing_group_keys": ["region", "team", "project"]}',)]


# ---------------------------------------------------------------- dates and sizes dbt can read

@pytest.mark.parametrize("value", ["20261001", "2026-W40-1", "2026-10-01T10", "2026-10-01T10:00:00+0200",
                                   "2026-10-01t10:00", "2026-02-30", "2026-10-01T24:00"])
def test_started_at_must_be_a_form_sql_reads(tmp_path, value):
    # Python alone reads "20261001" as a date; the SQL would read it as Unix seconds.
    folder, row = broken(tmp_path, "subscriptions.csv", "sub_001", "started_at", value)
    assert problems(folder) == [f"subscriptions.csv row {row}: started_at={value!r} is not an ISO date or datetime"]


@pytest.mark.parametrize("value", ["2026-10-01", "2026-10-01T10:00", "2026-10-01 10:00:00.5Z",
                                   "2026-10-01T10:00:00-05:00"])
def test_started_at_iso_forms_are_accepted(tmp_path, value):
    folder, _ = broken(tmp_path, "subscriptions.csv", "sub_001", "started_at", value)
    subscriptions = validate(folder).tables["subscriptions"][1]
    assert [s[3] for s in subscriptions if s[0] == "sub_001"] == [value]


def test_amount_too_large_for_the_money_columns(tmp_path):
    folder, row = broken(tmp_path, "plans.csv", "starter_usd", "amount", "1" + "0" * 28)
    assert problems(folder) == [(f"plans.csv row {row}: amount='1{'0' * 28}' is too large "
                                 f"(rule: at most 28 digits before the point)")]


# ---------------------------------------------------------------- taxes

def catalog_with_taxes(tmp_path: Path) -> Path:
    return add_taxes(copy_catalog(tmp_path))


def add_taxes(folder: Path) -> Path:
    write_csv(folder, "taxes.csv", "code,name,rate,applied_by_default",
              "vat_fr,TVA,20.00,true", "reduced,Reduced VAT,5.5,", "zero,Exempt,0,false")
    set_cell(folder, "customers.csv", "cus_001", "tax_codes", " vat_fr ; ;reduced")
    set_cell(folder, "customers.csv", "cus_002", "tax_codes", "zero")
    add_column(folder, "plans.csv", "tax_codes", {"starter_usd": "reduced"})
    add_column(folder, "charges.csv", "tax_codes", {"ch_pro_seats": "zero;vat_fr", "ch_pro_gpus": " "})
    return folder


def test_plans_and_charges_without_tax_codes_column_load():
    small = SMALL_CATALOG
    assert "tax_codes" not in read_csv(small, "plans.csv")[0]
    assert "tax_codes" not in read_csv(small, "charges.csv")[0]
    con = duckdb.connect(":memory:")
    load(con, small)
    assert query(con, "select count(*) from catalog.plan_taxes union all select count(*) from catalog.charge_taxes") \
        == [(0,), (0,)]


def test_customers_without_tax_codes_column_is_still_refused(tmp_path):
    folder = copy_catalog(tmp_path)
    text = (folder / "customers.csv").read_text(encoding="utf-8").splitlines()
    write_csv(folder, "customers.csv", *(line.rsplit(",", 1)[0] for line in text))
    assert problems(folder)[0] == "customers.csv: missing columns ['tax_codes'] (rule: SPEC §3 columns)"


def test_tax_code_that_does_not_exist(tmp_path):
    folder = catalog_with_taxes(tmp_path)
    row = set_cell(folder, "customers.csv", "cus_003", "tax_codes", "vat_fr;vat_de")
    assert problems(folder) == [f"customers.csv row {row}: tax_codes code 'vat_de' does not exist in taxes.csv"]


def test_tax_code_without_taxes_file(tmp_path):
    folder = copy_catalog(tmp_path)
    (folder / "taxes.csv").unlink()
    add_column(folder, "plans.csv", "tax_codes", {"pro_usd": "vat_fr"})
    assert problems(folder) == ["plans.csv row 3: tax_codes code 'vat_fr' does not exist in taxes.csv"]


def test_tax_code_twice_in_a_row(tmp_path):
    folder = catalog_with_taxes(tmp_path)
    row = set_cell(folder, "charges.csv", "ch_pro_gpus", "tax_codes", "vat_fr; reduced ;vat_fr")
    assert problems(folder) == [(f"charges.csv row {row}: tax_codes lists 'vat_fr' twice "
                                 f"(rule: no duplicate codes within a row)")]


@pytest.mark.parametrize("rate", ["100.01", "-1", "150"])
def test_tax_rate_outside_a_percent(tmp_path, rate):
    folder = catalog_with_taxes(tmp_path)
    row = set_cell(folder, "taxes.csv", "reduced", "rate", rate)
    assert problems(folder) == [(f"taxes.csv row {row}: rate={rate!r} is not a percent from 0 to 100 "
                                 f"(rule: a tax rate is in percent)")]


def test_tax_rate_100_is_allowed(tmp_path):
    folder = catalog_with_taxes(tmp_path)
    set_cell(folder, "taxes.csv", "reduced", "rate", "100")
    taxes = validate(folder).tables["taxes"][1]
    assert [t[2] for t in taxes if t[0] == "reduced"] == [Decimal("100")]


def test_duplicate_tax_code(tmp_path):
    folder = catalog_with_taxes(tmp_path)
    set_cell(folder, "taxes.csv", "zero", "code", "vat_fr")
    seats_row = 2 + [c["id"] for c in read_csv(DEMO, "charges.csv")].index("ch_pro_seats")
    # The second row is refused, so the code it defined is no longer known either.
    assert problems(folder) == [
        "taxes.csv row 4: duplicate code 'vat_fr' (first at row 2)",
        "customers.csv row 3: tax_codes code 'zero' does not exist in taxes.csv",
        f"charges.csv row {seats_row}: tax_codes code 'zero' does not exist in taxes.csv"]


def test_tax_rate_is_required(tmp_path):
    folder = catalog_with_taxes(tmp_path)
    set_cell(folder, "taxes.csv", "zero", "rate", "")
    assert problems(folder) == ["taxes.csv row 4: rate is required"]


# ---------------------------------------------------------------- wallets

WALLETS = "id,external_customer_id,currency,rate_amount,priority,expiration_at"
TRANSACTIONS = "wallet_id,credits,kind,created_at"
WALLET_CURRENCY_RULE = "(rule: a wallet applies only in its customer's invoice currency)"


def catalog_with_wallets(tmp_path: Path) -> Path:
    return add_wallets(copy_catalog(tmp_path))


def add_wallets(folder: Path) -> Path:
    write_csv(folder, "wallets.csv", WALLETS,
              "w_acme,cus_001,usd,1.00,,",
              "w_acme_promo,cus_001,USD,0.5,1,2026-12-31",
              "w_lumiere,cus_061,EUR,2,50,2026-11-15T12:00:00+01:00")
    write_csv(folder, "wallet_transactions.csv", TRANSACTIONS,
              "w_acme,100,purchased,2026-09-01",
              "w_acme_promo,10.123456789,granted,2026-09-15T08:30:00Z",
              "w_lumiere,0.00001,purchased,2026-11-15T11:00:00Z",
              "w_acme,25.5,granted,2026-10-01 00:00")
    return folder


def test_wallet_on_unknown_customer(tmp_path):
    folder = catalog_with_wallets(tmp_path)
    set_cell(folder, "wallets.csv", "w_acme", "external_customer_id", "cus_999")
    assert problems(folder) == ["wallets.csv row 2: external_customer_id 'cus_999' does not exist in customers.csv"]


def test_wallet_currency_differs_from_customer(tmp_path):
    folder = catalog_with_wallets(tmp_path)
    set_cell(folder, "wallets.csv", "w_lumiere", "currency", "USD")
    assert problems(folder) == [
        f"wallets.csv row 4: wallet currency USD differs from customer 'cus_061' currency EUR {WALLET_CURRENCY_RULE}"]


def test_wallet_currency_unknown(tmp_path):
    folder = catalog_with_wallets(tmp_path)
    set_cell(folder, "wallets.csv", "w_acme", "currency", "credits")
    assert problems(folder) == ["wallets.csv row 2: currency 'credits' is not a known ISO 4217 code"]


def test_duplicate_and_missing_wallet_id(tmp_path):
    folder = catalog_with_wallets(tmp_path)
    set_cell(folder, "wallets.csv", "w_acme_promo", "id", "w_acme")
    set_cell(folder, "wallets.csv", "w_lumiere", "id", "")
    # transactions of the refused rows point to no wallet
    assert problems(folder) == [
        "wallets.csv row 3: duplicate id 'w_acme' (first at row 2)",
        "wallets.csv row 4: id is required",
        "wallet_transactions.csv row 3: wallet_id 'w_acme_promo' does not exist in wallets.csv",
        "wallet_transactions.csv row 4: wallet_id 'w_lumiere' does not exist in wallets.csv"]


@pytest.mark.parametrize("rate", ["0", "-1", "0.0000"])
def test_wallet_rate_amount_must_be_positive(tmp_path, rate):
    folder = catalog_with_wallets(tmp_path)
    set_cell(folder, "wallets.csv", "w_acme", "rate_amount", rate)
    assert problems(folder) == [(f"wallets.csv row 2: rate_amount={rate!r} must be above 0 "
                                 f"(rule: rate_amount is the currency value of one credit)")]


def test_wallet_rate_amount_is_required(tmp_path):
    folder = catalog_with_wallets(tmp_path)
    set_cell(folder, "wallets.csv", "w_acme", "rate_amount", "")
    assert problems(folder) == ["wallets.csv row 2: rate_amount is required"]


@pytest.mark.parametrize("priority", ["0", "51", "2.5", "-1", "+3", "high"])
def test_wallet_priority_outside_1_to_50(tmp_path, priority):
    folder = catalog_with_wallets(tmp_path)
    set_cell(folder, "wallets.csv", "w_acme", "priority", priority)
    assert problems(folder) == [(f"wallets.csv row 2: priority={priority!r} must be a whole number from 1 to 50 "
                                 f"(rule: Lago wallet priority 1..50; empty = 50)")]


@pytest.mark.parametrize("value", ["2026-13-01", "31/12/2026", "20261231"])
def test_wallet_expiration_not_iso(tmp_path, value):
    folder = catalog_with_wallets(tmp_path)
    set_cell(folder, "wallets.csv", "w_acme", "expiration_at", value)
    assert problems(folder) == [f"wallets.csv row 2: expiration_at={value!r} is not an ISO date or datetime"]


def test_at_most_ten_wallets_per_customer(tmp_path):
    folder = catalog_with_wallets(tmp_path)
    write_csv(folder, "wallets.csv", WALLETS, *(f"w{i},cus_002,USD,1,," for i in range(12)),
              "w_acme,cus_001,USD,1,,", "w_acme_promo,cus_001,USD,1,,", "w_lumiere,cus_061,EUR,1,,")
    rule = "(rule: at most 10 wallets per customer; billing stacks at most 10)"
    assert problems(folder) == [f"wallets.csv row {line}: customer 'cus_002' has more than 10 wallets {rule}"
                                for line in (12, 13)]


def test_transaction_on_unknown_wallet(tmp_path):
    folder = catalog_with_wallets(tmp_path)
    set_cell(folder, "wallet_transactions.csv", "w_lumiere", "wallet_id", "w_nope")
    assert problems(folder) == ["wallet_transactions.csv row 4: wallet_id 'w_nope' does not exist in wallets.csv"]


@pytest.mark.parametrize("credits, message", [
    ("0", "credits='0' must be above 0 (rule: a transaction adds credits)"),
    ("-10", "credits='-10' must be above 0 (rule: a transaction adds credits)"),
    ("0.000009", ("credits='0.000009' is 0 once floored to 5 decimals (rule: credits > 0; Lago keeps 5 decimals "
                  "of credits)")),
    ("ten", "credits='ten' is not a decimal number"),
    ("", "credits is required"),
])
def test_transaction_credits_must_be_positive(tmp_path, credits, message):
    folder = catalog_with_wallets(tmp_path)
    set_cell(folder, "wallet_transactions.csv", "w_lumiere", "credits", credits)
    assert problems(folder) == [f"wallet_transactions.csv row 4: {message}"]


def test_transaction_credits_floor_keeps_large_values_exact(tmp_path):
    folder = catalog_with_wallets(tmp_path)
    set_cell(folder, "wallet_transactions.csv", "w_lumiere", "credits", "123456789012345678901234567.999999")
    con = duckdb.connect(":memory:")
    load(con, folder)
    assert query(con, "select credits::varchar from catalog.wallet_transactions where wallet_id = 'w_lumiere'") \
        == [("123456789012345678901234567.9999900000",)]


@pytest.mark.parametrize("kind", ["paid", "Granted", "voided", ""])
def test_transaction_kind_unknown(tmp_path, kind):
    folder = catalog_with_wallets(tmp_path)
    set_cell(folder, "wallet_transactions.csv", "w_lumiere", "kind", kind)
    assert problems(folder) == [(f"wallet_transactions.csv row 4: kind {kind!r} is unknown "
                                 f"(rule: one of ['granted', 'purchased'])")]


@pytest.mark.parametrize("value, message", [
    ("", "created_at is required"),
    ("yesterday", "created_at='yesterday' is not an ISO date or datetime"),
])
def test_transaction_created_at_required_iso(tmp_path, value, message):
    folder = catalog_with_wallets(tmp_path)
    set_cell(folder, "wallet_transactions.csv", "w_lumiere", "created_at", value)
    assert problems(folder) == [f"wallet_transactions.csv row 4: {message}"]


@pytest.mark.parametrize("wallet, created, expiration", [
    # the wallet expires 2026-11-15T11:00:00Z (12:00 in +01:00)
    ("w_lumiere", "2026-11-15T11:00:01Z", "2026-11-15T12:00:00+01:00"),
    ("w_lumiere", "2026-11-16", "2026-11-15T12:00:00+01:00"),
    # a bare date is 00:00 UTC of that date
    ("w_acme_promo", "2026-12-31T00:00:00.000001", "2026-12-31"),
])
def test_transaction_after_wallet_expiration(tmp_path, wallet, created, expiration):
    folder = catalog_with_wallets(tmp_path)
    row = set_cell(folder, "wallet_transactions.csv", wallet, "created_at", created)
    assert problems(folder) == [(f"wallet_transactions.csv row {row}: created_at {created} is after wallet "
                                 f"{wallet!r} expiration_at {expiration} (rule: no credits on an expired wallet)")]


@pytest.mark.parametrize("wallet, created", [
    ("w_lumiere", "2026-11-15T12:00:00+01:00"), ("w_lumiere", "2026-11-15T11:00:00"),
    ("w_acme_promo", "2026-12-31"), ("w_acme_promo", "2026-12-31T01:00:00+01:00"),
])
def test_transaction_at_wallet_expiration_is_allowed(tmp_path, wallet, created):
    folder = catalog_with_wallets(tmp_path)
    row = set_cell(folder, "wallet_transactions.csv", wallet, "created_at", created)
    transactions = validate(folder).tables["wallet_transactions"][1]
    assert [t[3] for t in transactions if t[4] == row] == [created]


# ---------------------------------------------------------------- coupons

COUPONS = "code,coupon_type,amount,percentage_rate,frequency,frequency_duration"
APPLIED = "coupon_code,external_customer_id,applied_at"


def catalog_with_coupons(tmp_path: Path) -> Path:
    return add_coupons(copy_catalog(tmp_path))


def add_coupons(folder: Path) -> Path:
    write_csv(folder, "coupons.csv", COUPONS,
              "welcome,fixed_amount,50.00,,once,",
              "launch,percentage,,12.5,recurring,3",
              "partner,percentage,7,100,forever,2",
              "loyal,fixed_amount,5,,recurring,12")
    write_csv(folder, "applied_coupons.csv", APPLIED,
              "welcome,cus_001,2026-09-01",
              "launch,cus_001,2026-09-02T10:00:00Z",
              "partner,cus_061,2026-10-01T00:00:00+02:00",
              "loyal,cus_002,2026-10-15 08:00")
    return folder


def test_duplicate_coupon_code(tmp_path):
    folder = catalog_with_coupons(tmp_path)
    set_cell(folder, "coupons.csv", "loyal", "code", "welcome")
    assert problems(folder) == ["coupons.csv row 5: duplicate code 'welcome' (first at row 2)",
                                "applied_coupons.csv row 5: coupon_code 'loyal' does not exist in coupons.csv"]


def test_coupon_type_unknown(tmp_path):
    folder = catalog_with_coupons(tmp_path)
    set_cell(folder, "coupons.csv", "welcome", "coupon_type", "free_month")
    assert problems(folder) == [(
        "coupons.csv row 2: coupon_type 'free_month' is unknown (rule: one of ['fixed_amount', 'percentage'])")]


@pytest.mark.parametrize("amount, message", [
    ("0", "amount='0' must be above 0 (rule: a fixed_amount coupon needs amount > 0)"),
    ("-5", "amount='-5' must be above 0 (rule: a fixed_amount coupon needs amount > 0)"),
    ("", "amount is required"),
])
def test_fixed_amount_coupon_needs_a_positive_amount(tmp_path, amount, message):
    folder = catalog_with_coupons(tmp_path)
    set_cell(folder, "coupons.csv", "welcome", "amount", amount)
    assert problems(folder) == [f"coupons.csv row 2: {message}"]


@pytest.mark.parametrize("rate", ["0", "100.5", "-10"])
def test_percentage_coupon_rate_above_0_at_most_100(tmp_path, rate):
    folder = catalog_with_coupons(tmp_path)
    set_cell(folder, "coupons.csv", "launch", "percentage_rate", rate)
    assert problems(folder) == [(f"coupons.csv row 3: percentage_rate={rate!r} must be above 0 and at most 100 "
                                 f"(rule: a percentage coupon needs 0 < percentage_rate <= 100)")]


def test_percentage_coupon_needs_a_rate(tmp_path):
    folder = catalog_with_coupons(tmp_path)
    set_cell(folder, "coupons.csv", "launch", "percentage_rate", "")
    assert problems(folder) == ["coupons.csv row 3: percentage_rate is required"]


def test_coupon_frequency_unknown(tmp_path):
    folder = catalog_with_coupons(tmp_path)
    set_cell(folder, "coupons.csv", "welcome", "frequency", "monthly")
    assert problems(folder) == [(
        "coupons.csv row 2: frequency 'monthly' is unknown (rule: one of ['forever', 'once', 'recurring'])")]


@pytest.mark.parametrize("duration", ["", "0", "1.5", "-2"])
def test_recurring_coupon_needs_a_duration(tmp_path, duration):
    folder = catalog_with_coupons(tmp_path)
    set_cell(folder, "coupons.csv", "launch", "frequency_duration", duration)
    assert problems(folder) == [(f"coupons.csv row 3: frequency_duration={duration!r} must be a whole number of "
                                 f"at least 1 (rule: a recurring coupon needs frequency_duration > 0)")]


def test_applied_coupon_unknown_coupon_and_customer(tmp_path):
    folder = catalog_with_coupons(tmp_path)
    set_cell(folder, "applied_coupons.csv", "partner", "external_customer_id", "cus_999")
    set_cell(folder, "applied_coupons.csv", "loyal", "coupon_code", "nope")
    assert problems(folder) == [
        "applied_coupons.csv row 4: external_customer_id 'cus_999' does not exist in customers.csv",
        "applied_coupons.csv row 5: coupon_code 'nope' does not exist in coupons.csv"]


@pytest.mark.parametrize("value, message", [
    ("", "applied_at is required"),
    ("01/10/2026", "applied_at='01/10/2026' is not an ISO date or datetime"),
])
def test_applied_coupon_applied_at_required_iso(tmp_path, value, message):
    folder = catalog_with_coupons(tmp_path)
    set_cell(folder, "applied_coupons.csv", "partner", "applied_at", value)
    assert problems(folder) == [f"applied_coupons.csv row 4: {message}"]


def test_same_coupon_applied_twice_to_a_customer(tmp_path):
    folder = catalog_with_coupons(tmp_path)
    set_cell(folder, "applied_coupons.csv", "launch", "coupon_code", "welcome")
    assert problems(folder) == [(
        "applied_coupons.csv row 3: coupon 'welcome' is already applied to customer 'cus_001' "
        "(row 2; rule: a coupon applies once per customer)")]


def test_at_most_ten_applied_coupons_per_customer(tmp_path):
    folder = catalog_with_coupons(tmp_path)
    write_csv(folder, "coupons.csv", COUPONS, *(f"c{i},percentage,,1,forever," for i in range(12)))
    write_csv(folder, "applied_coupons.csv", APPLIED, *(f"c{i},cus_003,2026-09-01" for i in range(12)),
              "c0,cus_004,2026-09-01")
    rule = "(rule: at most 10 applied coupons per customer; billing stacks at most 10)"
    assert problems(folder) == [f"applied_coupons.csv row {line}: customer 'cus_003' has more than 10 applied "
                                f"coupons {rule}" for line in (12, 13)]


# ---------------------------------------------------------------- exchange rates

def test_demo_fx_rates_load_exactly():
    con = duckdb.connect(":memory:")
    load(con, DEMO)
    assert query(con, "select rate_date, currency, rate::varchar from catalog.fx_rates order by all") == [
        (r["date"], r["currency"], f"{Decimal(r['rate']):.10f}") for r in read_csv(DEMO, "fx_rates.csv")]
    assert query(con, "select count(*) from catalog.fx_rates")[0][0] == 6


def test_fx_currency_is_upper_cased(tmp_path):
    folder = copy_catalog(tmp_path)
    write_csv(folder, "fx_rates.csv", "date,currency,rate", "2026-09-01,eur,1.08")
    con = duckdb.connect(":memory:")
    load(con, folder)
    assert query(con, "select * from catalog.fx_rates") == [("2026-09-01", "EUR", Decimal("1.08"))]


@pytest.mark.parametrize("value, message", [
    ("2026-09-01T00:00:00Z", "date='2026-09-01T00:00:00Z' is not an ISO date (YYYY-MM-DD)"),
    ("2026-9-1", "date='2026-9-1' is not an ISO date (YYYY-MM-DD)"),
    ("", "date is required"),
])
def test_fx_date_not_an_iso_date(tmp_path, value, message):
    folder = copy_catalog(tmp_path)
    write_csv(folder, "fx_rates.csv", "date,currency,rate", f"{value},EUR,1.08")
    assert problems(folder) == [f"fx_rates.csv row 2: {message}"]


def test_fx_currency_unknown(tmp_path):
    folder = copy_catalog(tmp_path)
    write_csv(folder, "fx_rates.csv", "date,currency,rate", "2026-09-01,EURO,1.08")
    assert problems(folder) == ["fx_rates.csv row 2: currency 'EURO' is not a known ISO 4217 code"]


@pytest.mark.parametrize("rate", ["0", "-1.08"])
def test_fx_rate_must_be_positive(tmp_path, rate):
    folder = copy_catalog(tmp_path)
    write_csv(folder, "fx_rates.csv", "date,currency,rate", f"2026-09-01,EUR,{rate}")
    assert problems(folder) == [
        f"fx_rates.csv row 2: rate={rate!r} must be above 0 (rule: an exchange rate is positive)"]


def test_fx_duplicate_date_and_currency(tmp_path):
    folder = copy_catalog(tmp_path)
    write_csv(folder, "fx_rates.csv", "date,currency,rate",
              "2026-09-01,EUR,1.08", "2026-09-01,JPY,0.0067", "2026-10-01,EUR,1.09", "2026-09-01,eur,1.07")
    assert problems(folder) == ["fx_rates.csv row 5: duplicate date and currency (2026-09-01, EUR) (first at row 2)"]


# ---------------------------------------------------------------- all the money files at once

def test_every_money_file_loads_exactly(tmp_path):
    folder = add_coupons(add_wallets(add_taxes(copy_catalog(tmp_path))))
    write_csv(folder, "fx_rates.csv", "date,currency,rate", "2026-09-01,EUR,1.0850", "2026-09-01,jpy,0.00679")
    con = duckdb.connect(":memory:")
    counts = load(con, folder)
    assert counts == expected_counts(folder)
    assert all(counts[t] > 0 for t in ("taxes", "customer_taxes", "plan_taxes", "charge_taxes", "wallets",
                                       "wallet_transactions", "coupons", "applied_coupons", "fx_rates"))
    assert query(con, "select tax_code, name, rate::varchar, applied_by_default from catalog.taxes "
                      "order by tax_code") == [
        ("reduced", "Reduced VAT", "5.5000000000", False), ("vat_fr", "TVA", "20.0000000000", True),
        ("zero", "Exempt", "0.0000000000", False)]
    assert query(con, "select * from catalog.customer_taxes order by all") == [
        ("cus_001", "reduced"), ("cus_001", "vat_fr"), ("cus_002", "zero")]
    assert query(con, "select * from catalog.plan_taxes order by all") == [("starter_usd", "reduced")]
    assert query(con, "select * from catalog.charge_taxes order by all") == [
        ("ch_pro_seats", "vat_fr"), ("ch_pro_seats", "zero")]
    assert query(con, "select wallet_id, external_customer_id, currency, rate_amount::varchar, priority, "
                      "expiration_at, line_number from catalog.wallets order by line_number") == [
        ("w_acme", "cus_001", "USD", "1.0000000000", 50, None, 2),
        ("w_acme_promo", "cus_001", "USD", "0.5000000000", 1, "2026-12-31", 3),
        ("w_lumiere", "cus_061", "EUR", "2.0000000000", 50, "2026-11-15T12:00:00+01:00", 4)]
    # credits are floored to 5 decimals, as Lago does on input
    assert query(con, "select wallet_id, credits::varchar, kind, created_at, line_number "
                      "from catalog.wallet_transactions order by line_number") == [
        ("w_acme", "100.0000000000", "purchased", "2026-09-01", 2),
        ("w_acme_promo", "10.1234500000", "granted", "2026-09-15T08:30:00Z", 3),
        ("w_lumiere", "0.0000100000", "purchased", "2026-11-15T11:00:00Z", 4),
        ("w_acme", "25.5000000000", "granted", "2026-10-01 00:00", 5)]
    # only the value of the coupon's type is kept; frequency_duration only for recurring
    assert query(con, "select coupon_code, coupon_type, amount::varchar, percentage_rate::varchar, frequency, "
                      "frequency_duration from catalog.coupons order by coupon_code") == [
        ("launch", "percentage", None, "12.5000000000", "recurring", 3),
        ("loyal", "fixed_amount", "5.0000000000", None, "recurring", 12),
        ("partner", "percentage", None, "100.0000000000", "forever", None),
        ("welcome", "fixed_amount", "50.0000000000", None, "once", None)]
    assert query(con, "select * from catalog.applied_coupons order by line_number") == [
        ("welcome", "cus_001", "2026-09-01", 2),
        ("launch", "cus_001", "2026-09-02T10:00:00Z", 3),
        ("partner", "cus_061", "2026-10-01T00:00:00+02:00", 4),
        ("loyal", "cus_002", "2026-10-15 08:00", 5)]
    assert query(con, "select rate_date, currency, rate::varchar from catalog.fx_rates order by all") == [
        ("2026-09-01", "EUR", "1.0850000000"), ("2026-09-01", "JPY", "0.0067900000")]
