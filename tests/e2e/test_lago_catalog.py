"""A catalog written the way Lago's API documentation writes plans (issue 11, item 2): one plan
with every charge model, its optional properties left out or `null` (JSON null in properties, the
text `null` in optional CSV cells), metric filters in Lago's `[{key, values}]` list. Billed
through `tally run` for October 2026 to figures worked out by hand from Lago's rules."""
from __future__ import annotations

import csv
import io
import json
from decimal import Decimal as D
from pathlib import Path

from tests.helpers import rows, tally


def _csv(header: list[str], *lines: list) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    writer.writerows([json.dumps(v) if isinstance(v, dict | list) else v for v in line] for line in lines)
    return buf.getvalue()


CHARGES = [
    # id, metric, model, properties (as Lago's API docs write them), invoice_display_name, filters
    ("ch_std", "api_calls", "standard", {"amount": "0.5", "grouped_by": None}, "null", "null"),
    ("ch_grad", "api_calls", "graduated", {"graduated_ranges": [
        {"from_value": 0, "to_value": 10, "flat_amount": "10", "per_unit_amount": "0.5"},
        {"from_value": 11, "to_value": None, "flat_amount": None, "per_unit_amount": "0.4"}]}, "", ""),
    ("ch_vol", "api_calls", "volume", {"volume_ranges": [
        {"from_value": 0, "to_value": 10, "per_unit_amount": "1"},
        {"from_value": 11, "to_value": None, "flat_amount": None, "per_unit_amount": "0.5"}]}, "null", "[]"),
    ("ch_pkg", "api_calls", "package", {"amount": "30", "package_size": 10, "free_units": None}, "", "null"),
    ("ch_pct", "payments", "percentage", {
        "rate": "1", "fixed_amount": "0.5", "free_units_per_events": None, "free_units_per_total_aggregation": "500",
        "per_transaction_max_amount": None, "per_transaction_min_amount": None}, "Payments", [
        {"invoice_display_name": None, "properties": {"rate": "2", "fixed_amount": None},
         "values": {"region": ["eu"]}}]),
    ("ch_gp", "payments", "graduated_percentage", {"graduated_percentage_ranges": [
        {"from_value": 0, "to_value": 100, "rate": "1", "flat_amount": "10"},
        {"from_value": 101, "to_value": None, "rate": "0.5", "flat_amount": None}]}, "null", ""),
]

CATALOG = {
    "customers.csv": _csv(["external_id", "name", "currency", "timezone", "tax_codes"],
                          ["cus_lago", "Lago-shaped", "USD", "null", "null"]),
    "billable_metrics.csv": _csv(
        ["code", "name", "aggregation_type", "field_name", "recurring", "rounding_function", "rounding_precision",
         "filters"],
        ["api_calls", "API calls", "count_agg", "null", "null", "null", "null", "null"],
        ["payments", "Payments", "sum_agg", "amount", "", "", "", [{"key": "region", "values": ["eu", "us"]}]]),
    "plans.csv": _csv(["code", "name", "interval", "amount", "currency", "pay_in_advance", "trial_period",
                       "minimum_commitment"],
                      ["startup", "Startup", "monthly", "10.00", "USD", "null", "null", "null"]),
    "charges.csv": _csv(["id", "plan_code", "billable_metric_code", "charge_model", "properties", "pay_in_advance",
                         "min_amount", "invoice_display_name", "filters"],
                        *[[cid, "startup", metric, model, props, "null", "null" if i % 2 else "", name, filters]
                          for i, (cid, metric, model, props, name, filters) in enumerate(CHARGES)]),
    "subscriptions.csv": _csv(["external_id", "external_customer_id", "plan_code", "started_at", "ending_at",
                               "billing_time"],
                              ["sub_lago", "cus_lago", "startup", "2026-10-01", "null", "null"]),
}

# payments (amount, region or None), one a day from Oct 2, in this order
PAYMENTS = [("200", "us"), ("50", None), ("400", "us"), ("100", "eu"), ("300", "eu")]


def _events() -> str:
    lines = [{"transaction_id": f"call_{i}", "external_subscription_id": "sub_lago", "code": "api_calls",
              "timestamp": f"2026-10-{1 + i:02d}T09:00:00Z", "properties": {}} for i in range(25)]
    for i, (amount, region) in enumerate(PAYMENTS):
        props = {"amount": amount} | ({"region": region} if region else {})
        lines.append({"transaction_id": f"pay_{i}", "external_subscription_id": "sub_lago", "code": "payments",
                      "timestamp": f"2026-10-{2 + i:02d}T12:00:00Z", "properties": props})
    return "".join(json.dumps(line) + "\n" for line in lines)


def test_a_catalog_written_as_lago_documents_it_bills_to_hand_figures(tmp_path: Path):
    catalog, landing = tmp_path / "catalog", tmp_path / "landing"
    catalog.mkdir()
    landing.mkdir()
    for name, text in CATALOG.items():
        (catalog / name).write_text(text, encoding="utf-8")
    (landing / "events.jsonl").write_text(_events(), encoding="utf-8")
    warehouse = tmp_path / "w.duckdb"
    tally("run", "--catalog", str(catalog), "--landing", str(landing), "--warehouse", str(warehouse),
          "--period", "2026-10", "--publish", str(tmp_path / "published"), "--no-pages")

    lines = rows(warehouse, """select coalesce(charge_id, fee_type), units, events_count, amount
                               from billing.invoice_lines order by 1, 4""")
    # Worked by hand from Lago's rules (docs/reference lago-semantics §3); unset = the README's defaults.
    # 25 API calls, payments 200 (us), 50 (no region), 400 (us), 100 (eu), 300 (eu) = 1,050.
    assert lines == [
        # graduated_percentage 0–100 @1 % + flat 10, 101–∞ @0.5 % + flat null: 100 × 1 % + 10 = 11;
        # (1,050 − 101 + 1) = 950 × 0.5 % = 4.75 → 15.75
        ("ch_gp", D(1050), 5, D("15.75")),
        # graduated 0–10 @0.5 + flat 10, 11–∞ @0.4 + flat null (= 0); from_value 11 = to_value + 1, so
        # tier units = to − from + 1: 10 × 0.5 + 10 = 15; (25 − 11 + 1) = 15 × 0.4 + 0 = 6 → 21.00
        ("ch_grad", D(25), 25, D("21.00")),
        # percentage, default bucket (us and no region: 200, 50, 400 in time order), 1 % + 0.50 per event,
        # free_units_per_events null = 0, free_units_per_total_aggregation 500: running totals until
        # above 500 = [200, 250, 650]; free amount = min(650, 500) = 500, free events = 2 (totals < 500):
        # (650 − 500) × 1 % = 1.50 + (3 − 2) × 0.50 = 0.50 → 2.00
        ("ch_pct", D(650), 3, D("2.00")),
        # percentage, filter region=eu (its own properties: rate 2, fixed_amount null = 0, no free
        # units): (100 + 300) × 2 % = 8.00
        ("ch_pct", D(400), 2, D("8.00")),
        # package: free_units null = 0: ceil(25 / 10) = 3 packages × 30 → 90.00
        ("ch_pkg", D(25), 25, D("90.00")),
        # standard: 25 × 0.5 → 12.50
        ("ch_std", D(25), 25, D("12.50")),
        # volume: 25 falls in 11–∞: all 25 × 0.5 + flat null (= 0) → 12.50
        ("ch_vol", D(25), 25, D("12.50")),
        # the plan's fee: pay_in_advance null = in arrears, trial_period null = no trial, full month
        ("subscription", D(1), 0, D("10.00")),
    ]
    # fees = 15.75 + 21.00 + 2.00 + 8.00 + 90.00 + 12.50 + 12.50 + 10.00 = 171.75; no true-up (min_amount
    # null), no commitment line (minimum_commitment null), no tax (tax_codes null): total 171.75
    assert rows(warehouse, """select fees_amount, taxes_amount, total_amount, period_start::varchar,
                                     period_end::varchar from billing.invoices""") == [
        (D("171.75"), D("0.00"), D("171.75"), "2026-10-01", "2026-10-31")]
