"""Lago catalogs as exported (issue 11, item 2): every optional value may be absent, null (JSON
`null`, or the text `null` in a CSV cell) or written out as its default, and the three load into
the same validated rows; a catalog with several broken rows is refused with every problem at
once, each naming file, row and rule. The defaults are the README's table ("Optional values")."""
from __future__ import annotations

import csv
import io
import json
from decimal import Decimal as D
from pathlib import Path

import pytest

from orchestration.catalog import CatalogError, validate

ABSENT, NULL, DEFAULT = "absent", "null", "default"


def write(folder: Path, name: str, header: list[str], rows: list[list]) -> None:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    writer.writerows([json.dumps(v) if isinstance(v, dict | list) else v for v in r] for r in rows)
    (folder / name).write_text(buf.getvalue(), encoding="utf-8")


def optional(mode: str, default, required: dict | None = None, **values) -> dict:
    """A JSON object: `required` plus each optional key left out, null, or its default."""
    out = dict(required or {})
    if mode == NULL:
        out.update(dict.fromkeys(values))
    elif mode == DEFAULT:
        out.update({k: default if v is None else v for k, v in values.items()})
    return out


def cell(mode: str, default: str, null: str = "null") -> str:
    return {ABSENT: "", NULL: null, DEFAULT: default}[mode]


def catalog(folder: Path, mode: str) -> Path:
    """Every charge model and every optional value of SPEC §3 and Lago's charge properties, each
    absent, null or written as its default (per `mode`)."""
    folder.mkdir(parents=True)
    write(folder, "customers.csv", ["external_id", "name", "currency", "timezone", "tax_codes"],
          [["cus_1", "One", "USD", cell(mode, "UTC", "NULL"), cell(mode, "")]])
    write(folder, "billable_metrics.csv", ["code", "name", "aggregation_type", "field_name", "recurring",
                                           "rounding_function", "rounding_precision", "filters"],
          [["calls", "Calls", "count_agg", cell(mode, ""), cell(mode, "false"), "", cell(mode, "0"),
            cell(mode, "{}")],
           ["amount", "Amount", "sum_agg", "amount", cell(mode, "false"), "round", cell(mode, "0"),
            {"region": ["eu", "us"]}]])
    write(folder, "plans.csv", ["code", "name", "interval", "amount", "currency", "pay_in_advance", "trial_period",
                                "minimum_commitment"],
          [["p", "P", "monthly", "10", "USD", cell(mode, "false"), cell(mode, "0"), cell(mode, "0")]])
    tier = {"per_unit_amount": None, "flat_amount": None}
    percentage = optional(mode, "0", {"rate": "1.5"}, fixed_amount=None, free_units_per_total_aggregation=None)
    percentage.update(optional(mode, 0, free_units_per_events=None))
    percentage.update(optional(mode, None, per_transaction_min_amount=None, per_transaction_max_amount=None))
    if mode == DEFAULT:  # no default value: absent is the default
        del percentage["per_transaction_min_amount"], percentage["per_transaction_max_amount"]
    charges = [
        ("c_std", "calls", "standard", {"amount": "1"}),
        ("c_grad", "calls", "graduated", {"graduated_ranges": [
            optional(mode, "0", {"from_value": 0, "to_value": 10}, **tier),
            optional(mode, "0", {"from_value": 11, "to_value": None, "per_unit_amount": "0.5"}, flat_amount=None)]}),
        ("c_vol", "calls", "volume", {"volume_ranges": [
            optional(mode, "0", {"from_value": 0, "to_value": 10, "per_unit_amount": "1"}, flat_amount=None),
            optional(mode, "0", {"from_value": 11, "to_value": None, "per_unit_amount": "0.5"}, flat_amount=None)]}),
        ("c_pkg", "calls", "package", optional(mode, 0, {"amount": "5", "package_size": 10}, free_units=None)),
        ("c_pct", "amount", "percentage", percentage),
        ("c_gp", "amount", "graduated_percentage", {"graduated_percentage_ranges": [
            optional(mode, "0", {"from_value": 0, "to_value": 100, "rate": "1"}, flat_amount=None),
            optional(mode, "0", {"from_value": 101, "to_value": None, "rate": "0.5"}, flat_amount=None)]}),
    ]
    rows = [[cid, "p", metric, model, props, cell(mode, "false"), cell(mode, "0"), cell(mode, ""), cell(mode, "[]")]
            for cid, metric, model, props in charges]
    # a charge filter: its display name and properties absent, null or written out (the charge's own)
    rows.append(["c_pct_eu", "p", "amount", "percentage", {"rate": "2"}, "", "", "Amount",
                 [optional(mode, None, {"values": {"region": ["eu"]}}, invoice_display_name=None, properties=None)
                  | ({"invoice_display_name": "", "properties": {"rate": "2"}} if mode == DEFAULT else {})]])
    write(folder, "charges.csv", ["id", "plan_code", "billable_metric_code", "charge_model", "properties",
                                  "pay_in_advance", "min_amount", "invoice_display_name", "filters"], rows)
    write(folder, "subscriptions.csv", ["external_id", "external_customer_id", "plan_code", "started_at", "ending_at",
                                        "billing_time"],
          [["sub_1", "cus_1", "p", "2026-10-01", cell(mode, ""), cell(mode, "calendar")]])
    write(folder, "wallets.csv", ["id", "external_customer_id", "currency", "rate_amount", "priority", "expiration_at"],
          [["w_1", "cus_1", "USD", "1", cell(mode, "50"), cell(mode, "")]])
    return folder


def validated(folder: Path) -> dict[str, list[tuple]]:
    """The validated tables, without catalog.charges.properties (the Lago JSON as written)."""
    tables = {name: rows for name, (_, rows) in validate(folder).tables.items()}
    tables["charges"] = [row[:7] + row[8:] for row in tables["charges"]]
    return tables


def test_absent_null_and_explicit_default_give_the_same_validated_rows(tmp_path):
    absent, null, default = (validated(catalog(tmp_path / mode, mode)) for mode in (ABSENT, NULL, DEFAULT))
    assert null == absent
    assert default == absent
    # and what they mean (the README's table)
    assert absent["customers"] == [("cus_1", "One", "USD", "UTC", "")]
    assert absent["billable_metrics"] == [("calls", "Calls", "count_agg", None, False, None, None),
                                          ("amount", "Amount", "sum_agg", "amount", False, "round", 0)]
    assert absent["plans"] == [("p", "P", "monthly", 10, "USD", False, 0, None)]
    assert [r[4:7] for r in absent["charges"]] == [(False, None, "")] * 6 + [(False, None, "Amount")]
    buckets = {(r[0], r[1]): r[2:] for r in absent["charge_buckets"]}
    #                                 name amount pkg  free rate  fixed fpe ftotal min   max   adjacent
    assert buckets[("c_pkg", 0)] == ("", 5, 10, 0, None, None, None, None, None, None, False)
    assert buckets[("c_pct", 0)] == ("", None, None, None, D("1.5"), 0, 0, 0, None, None, False)
    assert buckets[("c_pct_eu", 1)] == ("", None, None, None, 2, 0, 0, 0, None, None, False)
    tiers = {(r[0], r[2]): r[3:] for r in absent["charge_tiers"]}
    #                             from to   per_unit flat rate
    assert tiers[("c_grad", 1)] == (0, 10, 0, 0, 0)
    assert tiers[("c_grad", 2)] == (11, None, D("0.5"), 0, 0)
    assert tiers[("c_gp", 2)] == (101, None, 0, 0, D("0.5"))
    assert absent["subscriptions"] == [("sub_1", "cus_1", "p", "2026-10-01", None, "calendar")]
    assert [r[4:6] for r in absent["wallets"]] == [(50, None)]


def test_metric_filters_as_lago_lists_them_equal_the_spec_object(tmp_path):
    spec = catalog(tmp_path / "spec", ABSENT)
    lago = catalog(tmp_path / "lago", ABSENT)
    text = (lago / "billable_metrics.csv").read_text(encoding="utf-8")
    lago_filters = json.dumps([{"key": "region", "values": ["eu", "us"]}]).replace('"', '""')
    (lago / "billable_metrics.csv").write_text(
        text.replace('"{""region"": [""eu"", ""us""]}"', f'"{lago_filters}"'), encoding="utf-8")
    assert lago_filters in (lago / "billable_metrics.csv").read_text(encoding="utf-8")
    assert validated(lago) == validated(spec)


def problems(folder: Path) -> list[str]:
    with pytest.raises(CatalogError) as info:
        validate(folder)
    assert str(info.value) == "pricing catalog refused:\n  " + "\n  ".join(info.value.problems)
    return info.value.problems


def test_several_bad_rows_are_refused_with_every_problem_at_once(tmp_path):
    folder = catalog(tmp_path / "c", NULL)
    metrics = (folder / "billable_metrics.csv").read_text(encoding="utf-8").splitlines()
    metrics[1] = metrics[1].replace(",,null,", ",,12,")          # calls: a precision the SQL cannot round to
    metrics.append('seats,Seats,unique_count_agg,seat,null,null,null,"[{""key"": ""plan"", ""values"": ""eu""}]"')
    (folder / "billable_metrics.csv").write_text("\n".join(metrics) + "\n", encoding="utf-8")
    charges = list(csv.reader(io.StringIO((folder / "charges.csv").read_text(encoding="utf-8"))))
    charges[6][4] = json.dumps({"graduated_percentage_ranges": [   # c_gp, row 7: two problems in one row
        {"from_value": 0, "to_value": 100, "rate": None, "flat_amount": None},
        {"from_value": 101, "to_value": 200, "rate": "0.5"},
        {"from_value": 250, "to_value": None, "rate": "0.4"}]})
    charges[1][3], charges[1][6] = "tiered", "-5"                  # c_std, row 2: unknown model, negative minimum
    charges[4][4] = json.dumps({"amount": "5", "package_size": None, "free_units": None})  # c_pkg, row 5
    write(folder, "charges.csv", charges[0], charges[1:])
    assert problems(folder) == [
        ("billable_metrics.csv row 2: rounding_precision='12' must be a whole number from -9 to 10 "
        "(rule: the precisions the billing SQL rounds to)"),
        "billable_metrics.csv row 4: filters['plan'] must be a list of strings",
        "charges.csv row 2: min_amount='-5' is negative (rule: prices and amounts are >= 0)",
        ("charges.csv row 2: charge_model 'tiered' is unknown (rule: one of ['dynamic', 'graduated', "
        "'graduated_percentage', 'package', 'percentage', 'standard', 'volume'])"),
        "charges.csv row 5: properties.package_size is required",
        "charges.csv row 7: graduated_percentage_ranges[0].rate is required",
        ("charges.csv row 7: graduated_percentage_ranges have a gap between to_value 200 and from_value 250 "
        "(rule: each range starts at the previous to_value or to_value + 1)"),
    ]
