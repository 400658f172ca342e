"""Fixed charges, add-ons and one-off invoices in the catalog (docs/decisions.md 24): what loads, and
every row Lago refuses (app/models/fixed_charge.rb, app/models/add_on.rb,
invoices/create_one_off_service.rb) or Tally cannot bill yet, refused with its file, row and rule."""
from __future__ import annotations

from decimal import Decimal as D

import pytest

from orchestration.catalog import validate
from tests.unit.test_catalog import add_column, copy_catalog, problems, write_csv

ADD_ONS = ("code,name,amount,currency,invoice_display_name,tax_codes",
           "seat,Seat,10,USD,,",
           "setup,Setup,100,USD,Setup fee,")
FIXED = "id,plan_code,add_on_code,charge_model,properties,units,pay_in_advance,prorated"
STANDARD = '"{""amount"": ""12""}"'
RANGES = ('"{""%s"": [{""from_value"": 0, ""to_value"": 5, ""per_unit_amount"": ""0.1"", ""flat_amount"": ""10""}, '
          '{""from_value"": 6, ""to_value"": null, ""per_unit_amount"": ""2"", ""flat_amount"": ""20""}]}"')
UNITS = "external_subscription_id,fixed_charge_id,units,effective_on"
ONE_OFF = "external_customer_id,add_on_code,units,unit_amount,issuing_date"


def catalog(tmp_path, fixed=(), units=(), one_off=()):
    folder = copy_catalog(tmp_path)
    write_csv(folder, "add_ons.csv", *ADD_ONS)
    write_csv(folder, "fixed_charges.csv", FIXED, *fixed)
    write_csv(folder, "fixed_charge_units.csv", UNITS, *units)
    write_csv(folder, "one_off_invoices.csv", ONE_OFF, *one_off)
    return folder


def test_fixed_charges_add_ons_and_one_offs_load_as_typed_rows(tmp_path):
    folder = catalog(
        tmp_path,
        fixed=[f"fc_seats,starter_usd,seat,standard,{STANDARD},2,false,true",
               f"fc_grad,pro_usd,setup,graduated,{RANGES % 'graduated_ranges'},,true,false"],
        units=["sub_001,fc_seats,5,2026-10-15"],
        one_off=["cus_002,setup,,,2026-10-05", "cus_002,seat,3,9.5,2026-10-06"])
    tables = validate(folder).tables
    assert tables["add_ons"][1][0] == ("seat", "Seat", D("10"), "USD", "")
    # units default to 0 (Lago's default), the display name to the add-on's name
    assert [r[:8] for r in tables["fixed_charges"][1]] == [
        ("fc_seats", "starter_usd", "seat", "standard", D("12"), D("2"), False, True),
        ("fc_grad", "pro_usd", "setup", "graduated", None, D("0"), True, False)]
    assert [r.invoice_display_name for r in tables["fixed_charges"][1]] == ["Seat", "Setup"]
    assert [r[:6] for r in tables["fixed_charge_tiers"][1]] == [
        ("fc_grad", 1, D("0"), D("5"), D("0.1"), D("10")), ("fc_grad", 2, D("6"), None, D("2"), D("20"))]
    assert tables["fixed_charge_units"][1] == [("sub_001", "fc_seats", D("5"), "2026-10-15", 2)]
    # one-off: units 1 and the add-on's amount when unset (Lago: units || 1, add_on.amount_cents)
    assert tables["one_off_invoices"][1] == [
        ("cus_002", "setup", D("1"), D("100"), "2026-10-05", "Setup fee", 2),
        ("cus_002", "seat", D("3"), D("9.5"), "2026-10-06", "Seat", 3)]


def test_an_unknown_column_of_each_new_file_is_refused_with_file_row_and_column(tmp_path):
    folder = catalog(tmp_path)
    for name in ("add_ons.csv", "fixed_charges.csv", "fixed_charge_units.csv", "one_off_invoices.csv"):
        add_column(folder, name, "discount", {})
    found = problems(folder)
    assert [p.split(" (rule")[0] for p in found] == [
        f"{name} row 1: column 'discount' is unknown"
        for name in ("add_ons.csv", "fixed_charges.csv", "fixed_charge_units.csv", "one_off_invoices.csv")]


@pytest.mark.parametrize(("row", "message"), [
    # Lago FixedCharge::CHARGE_MODELS
    (f"fc,starter_usd,seat,package,{STANDARD},1,false,false",
     ("charge_model 'package' is not a fixed charge model (rule: one of standard, graduated, volume, as Lago's "
     "app/models/fixed_charge.rb)")),
    # validate_pay_in_advance
    (f"fc,starter_usd,seat,volume,{RANGES % 'volume_ranges'},1,true,false",
     ("a volume fixed charge cannot be paid in advance (rule: Lago's app/models/fixed_charge.rb "
     "validate_pay_in_advance)")),
    # validate_prorated
    (f"fc,starter_usd,seat,graduated,{RANGES % 'graduated_ranges'},1,true,true",
     ("a prorated graduated fixed charge cannot be paid in advance (rule: Lago's app/models/fixed_charge.rb "
     "validate_prorated)")),
    # validates :units, numericality: {greater_than_or_equal_to: 0}
    (f"fc,starter_usd,seat,standard,{STANDARD},-1,false,false",
     "units='-1' is negative (rule: prices and amounts are >= 0)"),
    (f"fc,nope,seat,standard,{STANDARD},1,false,false", "plan_code 'nope' does not exist in plans.csv"),
    (f"fc,starter_usd,nope,standard,{STANDARD},1,false,false", "add_on_code 'nope' does not exist in add_ons.csv"),
    ("fc,starter_usd,seat,standard,{},1,false,false", "properties.amount is required"),
    (f"fc,starter_usd,seat,graduated,{STANDARD},1,false,false",
     "graduated needs a non-empty properties.graduated_ranges list"),
])
def test_a_fixed_charge_lago_refuses_is_refused(tmp_path, row, message):
    folder = catalog(tmp_path, fixed=[row])
    assert problems(folder) == [f"fixed_charges.csv row 2: {message}"]


def test_a_fixed_charge_on_a_plan_with_usage_thresholds_is_refused_as_not_supported_yet(tmp_path):
    # the demo's scale_usd has usage thresholds (usage_thresholds.csv row 2)
    folder = catalog(tmp_path, fixed=[f"fc,scale_usd,seat,standard,{STANDARD},1,false,false"])
    assert problems(folder) == [
        ("fixed_charges.csv row 2: fixed charges on a plan with usage thresholds ('scale_usd', usage_thresholds.csv "
        "row 2) are not supported yet (rule: whether a fixed charge counts in lifetime usage is not settled; "
        "progressive billing counts usage charges only)")]


def test_a_units_row_names_its_subscription_and_one_of_its_plan_s_fixed_charges(tmp_path):
    folder = catalog(
        tmp_path, fixed=[f"fc_seats,starter_usd,seat,standard,{STANDARD},2,false,true"],
        units=["sub_999,fc_seats,1,2026-10-01",
               "sub_033,fc_seats,1,2026-10-01",  # pro_usd
               "sub_001,fc_none,1,2026-10-01",
               "sub_001,fc_seats,-2,2026-10-01",
               "sub_001,fc_seats,3,2026-10-01",
               "sub_001,fc_seats,4,01/10/2026"])
    assert problems(folder) == [
        "fixed_charge_units.csv row 2: external_subscription_id 'sub_999' does not exist in subscriptions.csv",
        ("fixed_charge_units.csv row 3: fixed charge 'fc_seats' is on plan 'starter_usd', not on the "
        "subscription's plan 'pro_usd' (rule: a subscription overrides the units of its own plan's fixed charges)"),
        "fixed_charge_units.csv row 4: fixed_charge_id 'fc_none' does not exist in fixed_charges.csv",
        "fixed_charge_units.csv row 5: units='-2' is negative (rule: prices and amounts are >= 0)",
        ("fixed_charge_units.csv row 6: units of 'fc_seats' for 'sub_001' are already set from 2026-10-01 (row 5; "
        "rule: one value per day)"),
        "fixed_charge_units.csv row 7: effective_on='01/10/2026' is not an ISO date (YYYY-MM-DD)",
    ]


def test_an_in_advance_unit_change_inside_a_period_loads(tmp_path):
    # Lago bills a change inside an in-advance fixed charge's period at once, on an invoice of its own
    # (fees/build_pay_in_advance_fixed_charge_service.rb): no longer refused (int_fixed_charge_fees).
    # sub_001: starter_usd (monthly, calendar) from 2025-11-28.
    folder = catalog(
        tmp_path, fixed=[f"fc_adv,starter_usd,seat,standard,{STANDARD},2,true,false"],
        units=["sub_001,fc_adv,3,2026-10-01",   # a period's first day: billed with October's fee
               "sub_001,fc_adv,4,2025-11-01",   # before the start: replaces the plan's units
               "sub_001,fc_adv,6,2026-10-15",   # inside October: a delta invoice on Oct 15
               "sub_001,fc_adv,1,2026-10-20"])  # a decrease: nothing back
    units = validate(folder).tables["fixed_charge_units"][1]
    assert [(u.units, u.effective_on) for u in units] == [
        (D("3"), "2026-10-01"), (D("4"), "2025-11-01"), (D("6"), "2026-10-15"), (D("1"), "2026-10-20")]


def test_a_one_off_row_lago_refuses_is_refused(tmp_path):
    folder = catalog(tmp_path, one_off=[
        "cus_999,seat,1,,2026-10-01",
        "cus_002,nope,1,,2026-10-01",
        "cus_086,seat,1,,2026-10-01",       # a JPY customer, a USD add-on, no unit_amount
        "cus_086,seat,1,1500,2026-10-01",   # with unit_amount: billed in yen
        "cus_002,seat,-1,,2026-10-01",
        "cus_002,seat,1,,",
    ])
    assert problems(folder) == [
        "one_off_invoices.csv row 2: external_customer_id 'cus_999' does not exist in customers.csv",
        "one_off_invoices.csv row 3: add_on_code 'nope' does not exist in add_ons.csv",
        ("one_off_invoices.csv row 4: add-on 'seat' costs 10 USD but customer 'cus_086' pays in JPY (rule: an "
        "invoice is in the customer's currency; give unit_amount in JPY)"),
        "one_off_invoices.csv row 6: units='-1' is negative (rule: prices and amounts are >= 0)",
        "one_off_invoices.csv row 7: issuing_date is required",
    ]


def test_add_ons_are_checked(tmp_path):
    folder = catalog(tmp_path)
    write_csv(folder, "add_ons.csv", ADD_ONS[0], "seat,,10,XXX,,", "seat,Seat,10,USD,,", "vat,Vat,-1,USD,,nope")
    assert problems(folder) == [
        "add_ons.csv row 3: duplicate code 'seat' (first at row 2)",
        "add_ons.csv row 2: name is required",
        "add_ons.csv row 2: currency 'XXX' is not a known ISO 4217 code",
        "add_ons.csv row 4: amount='-1' is negative (rule: prices and amounts are >= 0)",
        "add_ons.csv row 4: tax_codes code 'nope' does not exist in taxes.csv",
    ]


def test_a_units_change_after_the_subscription_ends_is_refused(tmp_path):
    # sub_020 (starter_usd) ends on 2026-10-16: a change on its last day loads, one after would
    # never be billed (it was silently never applied)
    folder = catalog(tmp_path, fixed=[f"fc_seats,starter_usd,seat,standard,{STANDARD},2,false,true"],
                     units=["sub_020,fc_seats,3,2026-10-16", "sub_020,fc_seats,5,2026-10-17"])
    assert problems(folder) == [
        ("fixed_charge_units.csv row 3: units of 'fc_seats' for 'sub_020' from 2026-10-17, after the subscription "
         "ends (2026-10-16), would never be billed (rule: a units change takes effect while the subscription is "
         "active, as Lago refuses to update a terminated subscription)")]
