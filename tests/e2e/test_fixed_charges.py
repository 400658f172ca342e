"""Fixed charges, add-ons and one-off invoices end to end (issue 17 item 3; Lago fixed_charges,
add_ons, invoices of type one_off, in-advance unit changes on invoices of their own), through
`tally run` over September (30 days) and October 2026 (31 days). Every figure is worked by hand next
to its assertion; the rules and their Lago files are in docs/decisions.md (24). The Lago spec cases
are dbt unit tests beside the models (_unit_tests_fixed_charges.yml)."""
from __future__ import annotations

from decimal import Decimal as D
from pathlib import Path

import duckdb
import pytest

from tests.helpers import tally

GRADUATED = ('{""graduated_ranges"": [{""from_value"": 0, ""to_value"": 5, ""per_unit_amount"": ""0.1"", '
             '""flat_amount"": ""10""}, {""from_value"": 6, ""to_value"": null, ""per_unit_amount"": ""2"", '
             '""flat_amount"": ""20""}]}')
CATALOG = {
    "customers.csv": """external_id,name,currency,timezone,tax_codes
c_usd,USD customer,USD,UTC,
c_tax,Taxed customer,USD,UTC,vat10
c_seat,Seat customer,USD,UTC,vat10
""",
    "taxes.csv": """code,name,rate,applied_by_default
vat10,VAT 10,10,false
vat20,VAT 20,20,false
""",
    "billable_metrics.csv": ("code,name,aggregation_type,field_name,recurring,"
                             "rounding_function,rounding_precision,filters") + """
calls,Calls,count_agg,,false,,,
""",
    "plans.csv": """code,name,interval,amount,currency,pay_in_advance,trial_period,minimum_commitment
p_trial,Trial plan,monthly,30,USD,false,14,
p_adv,In-advance seats,monthly,0,USD,false,0,
p_advp,Prorated in-advance seats,monthly,0,USD,true,0,
p_pr,Prorated seats,monthly,0,USD,false,0,
p_tax,Taxed plan,monthly,50,USD,false,0,
p_grad,Graduated seats,monthly,0,USD,false,0,
p_seat,Seats bought in advance,monthly,0,USD,false,0,
""",
    "charges.csv": ("id,plan_code,billable_metric_code,charge_model,properties,pay_in_advance,"
                    "min_amount,invoice_display_name,filters") + """
ch_calls,p_tax,calls,standard,"{""amount"": ""1""}",false,,Calls,
""",
    "add_ons.csv": """code,name,amount,currency,invoice_display_name,tax_codes
seat,Seat,10,USD,,
setup,Setup,100,USD,Setup fee,vat20
""",
    "fixed_charges.csv": """id,plan_code,add_on_code,charge_model,properties,units,pay_in_advance,prorated
fc_trial,p_trial,seat,standard,"{""amount"": ""12""}",2,false,false
fc_adv,p_adv,seat,standard,"{""amount"": ""50""}",1,true,false
fc_advp,p_advp,seat,standard,"{""amount"": ""31""}",2,true,true
fc_pr,p_pr,seat,standard,"{""amount"": ""30""}",1,false,true
fc_seat,p_seat,seat,standard,"{""amount"": ""20""}",10,true,false
fc_seat_pr,p_seat,seat,standard,"{""amount"": ""20""}",10,true,true
""" + f"""fc_grad,p_grad,seat,graduated,"{GRADUATED}",7,false,false
""",
    "fixed_charge_units.csv": """external_subscription_id,fixed_charge_id,units,effective_on
s_adv,fc_adv,3,2026-10-01
s_pr,fc_pr,3,2026-09-21
s_pr,fc_pr,0,2026-10-22
s_seat,fc_seat,15,2026-09-11
s_seat,fc_seat_pr,15,2026-09-11
s_seat,fc_seat,12,2026-09-21
s_seat,fc_seat_pr,12,2026-09-21
""",
    "subscriptions.csv": """external_id,external_customer_id,plan_code,started_at,ending_at,billing_time
s_trial,c_usd,p_trial,2026-09-01,,calendar
s_adv,c_usd,p_adv,2026-09-10,,calendar
s_advp,c_usd,p_advp,2026-10-11,,calendar
s_pr,c_usd,p_pr,2026-09-01,,calendar
s_tax,c_tax,p_tax,2026-09-01,,calendar
s_grad,c_usd,p_grad,2026-09-01,,calendar
s_seat,c_seat,p_seat,2026-09-01,,calendar
""",
    "coupons.csv": """code,coupon_type,amount,percentage_rate,frequency,frequency_duration
ten_off,fixed_amount,10,,once,
five_off,fixed_amount,5,,once,
""",
    "applied_coupons.csv": """coupon_code,external_customer_id,applied_at
ten_off,c_tax,2026-09-01
five_off,c_seat,2026-09-05
""",
    "wallets.csv": """id,external_customer_id,currency,rate_amount,priority,expiration_at
w_tax,c_tax,USD,1,1,
w_seat,c_seat,USD,1,1,
""",
    "wallet_transactions.csv": """wallet_id,credits,kind,created_at
w_tax,5,granted,2026-09-01
w_seat,20,granted,2026-09-05
""",
    "one_off_invoices.csv": """external_customer_id,add_on_code,units,unit_amount,issuing_date
c_tax,setup,2,,2026-09-15
c_tax,seat,3,9.999,2026-10-05
""",
}


@pytest.fixture(scope="module")
def billed(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("fixed_charges")
    catalog, landing = root / "catalog", root / "landing"
    catalog.mkdir()
    landing.mkdir()
    for name, text in CATALOG.items():
        (catalog / name).write_text(text)
    (landing / "events.jsonl").write_text("")
    warehouse = root / "warehouse.duckdb"
    tally("run", "--catalog", str(catalog), "--landing", str(landing), "--warehouse", str(warehouse),
          "--from", "2026-09", "--to", "2026-10", "--publish", str(root / "published"))
    return warehouse


def rows(warehouse: Path, sql: str, params=()) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(sql, list(params)).fetchall()


def lines(warehouse: Path, sub: str) -> list[tuple]:
    return rows(warehouse, """select l.invoice_id, l.fee_type, l.units, l.amount
                              from billing.invoice_lines as l
                              inner join billing.invoices as i on l.invoice_id = i.invoice_id
                              where i.external_subscription_id = ? order by 1, 2""", [sub])


def invoice(warehouse: Path, invoice_id: str) -> tuple:
    return rows(warehouse, """select invoice_type, issuing_date::varchar, fees_amount, coupons_amount, taxes_amount,
                                     prepaid_credit_amount, total_amount
                              from billing.invoices where invoice_id = ?""", [invoice_id])[0]


def test_fixed_charges_are_billed_in_full_during_a_trial(billed):
    # p_trial: 30 USD a month in arrears with a 14-day trial from Sep 1; fc_trial: 2 seats × 12 in arrears.
    assert lines(billed, "s_trial") == [
        # September: the subscription fee skips the trial (Sep 1-14): 30 × 16/30 = 16.00, but the fixed
        # charge is billed whole, trial or not (Lago bills fixed charges during a trial): 2 × 12 = 24.00
        ("inv_s_trial_20260901", "fixed_charge", D("2"), D("24.00")),
        ("inv_s_trial_20260901", "subscription", D("1"), D("16.00")),
        # October: 30.00 + 24.00
        ("inv_s_trial_20261001", "fixed_charge", D("2"), D("24.00")),
        ("inv_s_trial_20261001", "subscription", D("1"), D("30.00")),
    ]
    assert invoice(billed, "inv_s_trial_20260901")[2] == D("40.00")  # 16 + 24


def test_an_in_advance_fixed_charge_opens_the_subscription_and_each_period(billed):
    # p_adv is in arrears (0 USD); fc_adv is 1 seat × 50 in advance, not prorated; the subscription
    # starts on Sep 10 and fixed_charge_units.csv sets 3 seats from Oct 1.
    assert lines(billed, "s_adv") == [
        # closing Sep 10-30 on Oct 1: the plan's fee in arrears (0) and October's seats in advance,
        # the units of Oct 1: 3 × 50 = 150.00
        ("inv_s_adv_20260910", "fixed_charge", D("3"), D("150.00")),
        ("inv_s_adv_20260910", "subscription", D("1"), D("0.00")),
        # an opening invoice on Sep 10 for the in-advance fixed charge alone, though the plan is in
        # arrears; not prorated: the partial period (21 of 30 days) bills 1 × 50 = 50.00 whole
        ("inv_s_adv_20260910_open", "fixed_charge", D("1"), D("50.00")),
        # closing October on Nov 1: November's 3 seats in advance, 150.00
        ("inv_s_adv_20261001", "fixed_charge", D("3"), D("150.00")),
        ("inv_s_adv_20261001", "subscription", D("1"), D("0.00")),
    ]
    assert invoice(billed, "inv_s_adv_20260910_open")[:3] == ("subscription", "2026-09-10", D("50.00"))


def test_a_prorated_in_advance_fixed_charge_bills_the_first_partial_period_by_days(billed):
    # p_advp is in advance (0 USD); fc_advp: 2 seats × 31, in advance, prorated; starts Oct 11.
    assert [line[1:] for line in lines(billed, "s_advp") if line[1] == "fixed_charge"] == [
        # closing October on Nov 1: November in advance, whole: 2 × 30/30 × 31 = 62.00
        ("fixed_charge", D("2"), D("62.00")),
        # opening Oct 11: Oct 11-31 is 21 of 31 days: 2 × 21/31 = 1.3548387097 units × 31 = 42.00
        ("fixed_charge", D("1.3548387097"), D("42.00")),
    ]


def test_a_prorated_fixed_charge_weighs_a_mid_period_unit_change_by_days(billed):
    # fc_pr: 30 USD a seat, prorated, in arrears; 1 seat from Sep 1, 3 from Sep 21, 0 from Oct 22.
    assert lines(billed, "s_pr") == [
        # September (30 days): 1 seat Sep 1-20 (20 days) + 3 seats Sep 21-30 (10 days) = 50 seat-days;
        # 50/30 = 1.6666666667 units × 30 = 50.00
        ("inv_s_pr_20260901", "fixed_charge", D("1.6666666667"), D("50.00")),
        ("inv_s_pr_20260901", "subscription", D("1"), D("0.00")),
        # October (31 days): 3 seats Oct 1-21 (21 days), 0 from the 22nd: 63/31 = 2.0322580645 units;
        # × 30 = 60.967741… → 60.97
        ("inv_s_pr_20261001", "fixed_charge", D("2.0322580645"), D("60.97")),
        ("inv_s_pr_20261001", "subscription", D("1"), D("0.00")),
    ]


def test_an_in_advance_unit_change_inside_a_period_is_billed_at_once_on_its_own_invoice(billed):
    # p_seat (monthly, in arrears, 0 USD) has two in-advance fixed charges of 10 units × 20 USD: fc_seat
    # not prorated, fc_seat_pr prorated; s_seat starts Sep 1 (September: 30 days); both go to 15 units
    # on Sep 11 and to 12 on Sep 21 (Lago fees/build_pay_in_advance_fixed_charge_service.rb, one invoice
    # per subscription and change: invoices/create_pay_in_advance_fixed_charges_service.rb).
    assert rows(billed, """select l.invoice_id, l.charge_id, l.units, l.amount from billing.invoice_lines as l
                           inner join billing.invoices as i on l.invoice_id = i.invoice_id
                           where i.external_subscription_id = 's_seat' and l.fee_type = 'fixed_charge'
                           order by 1, 2""") == [
        # closing September on Oct 1: October in advance, the units of Oct 1 (the lowered 12):
        # 12 × 20 = 240.00 each (fc_seat_pr: 31 of 31 days)
        ("inv_s_seat_20260901", "fc_seat", D("12"), D("240.00")),
        ("inv_s_seat_20260901", "fc_seat_pr", D("12"), D("240.00")),
        # opening Sep 1: 10 × 20 = 200.00 each
        ("inv_s_seat_20260901_open", "fc_seat", D("10"), D("200.00")),
        ("inv_s_seat_20260901_open", "fc_seat_pr", D("10"), D("200.00")),
        # Sep 11, 10 → 15: the 5 units above the 10 billed, at once. Not prorated: 5 × 20 = 100.00;
        # prorated by the days left, Sep 11-30 = 20 of 30: 5 × 20/30 = 3.3333333333 units × 20 = 66.67
        ("inv_s_seat_20260911_units", "fc_seat", D("5"), D("100.00")),
        ("inv_s_seat_20260911_units", "fc_seat_pr", D("3.3333333333"), D("66.67")),
        # Sep 21, 15 → 12: nothing back; the invoice documents the change at 0.00
        ("inv_s_seat_20260921_units", "fc_seat", D("0"), D("0.00")),
        ("inv_s_seat_20260921_units", "fc_seat_pr", D("0"), D("0.00")),
        # closing October on Nov 1: November's 12 × 20 = 240.00 each
        ("inv_s_seat_20261001", "fc_seat", D("12"), D("240.00")),
        ("inv_s_seat_20261001", "fc_seat_pr", D("12"), D("240.00")),
    ]
    # c_seat: customer tax vat10, a 5 USD `once` coupon applied Sep 5, 20 credits (1 USD each) granted
    # Sep 5. The opening invoice comes before both: 400.00, vat10 40.00, 440.00.
    assert invoice(billed, "inv_s_seat_20260901_open") == (
        "subscription", "2026-09-01", D("400.00"), D("0.00"), D("40.00"), D("0.00"), D("440.00"))
    # Sep 11 is a subscription invoice like Lago's, issued that day: fees 100 + 66.67 = 166.67; the
    # coupon first, 5.00 → 161.67; then taxes on what the coupon left, 10 % = 16.167 → 16.17;
    # 177.84, then the wallet's 20 credits → 157.84
    assert invoice(billed, "inv_s_seat_20260911_units") == (
        "subscription", "2026-09-11", D("166.67"), D("5.00"), D("16.17"), D("20.00"), D("157.84"))
    assert rows(billed, """select period_start::varchar, period_end::varchar from billing.invoices
                           where invoice_id = 'inv_s_seat_20260911_units'""") == [("2026-09-01", "2026-09-30")]
    # the decrease: a zero invoice (no coupon left, no wallet for a zero total)
    assert invoice(billed, "inv_s_seat_20260921_units") == (
        "subscription", "2026-09-21", D("0.00"), D("0.00"), D("0.00"), D("0.00"), D("0.00"))
    # closing September: 480.00, vat10 48.00, the coupon and the wallet spent: 528.00
    assert invoice(billed, "inv_s_seat_20260901") == (
        "subscription", "2026-10-01", D("480.00"), D("0.00"), D("48.00"), D("0.00"), D("528.00"))


def test_a_one_off_invoice_is_taxed_and_leaves_coupons_and_wallets_to_the_subscription(billed):
    # c_tax (customer tax vat10) has a 10 USD `once` coupon applied on Sep 1, a wallet with 5 granted
    # credits at 1 USD, the 50 USD plan p_tax, and two one-off rows.
    # Row 2, Sep 15: 2 × setup (the add-on's 100) = 200.00; setup's own tax vat20 comes first (add-on
    # taxes before the customer's): 40.00. Lago's one-off invoice applies no coupon and no prepaid
    # credits (invoices/create_one_off_service.rb → compute_amounts_from_fees.rb): total 240.00.
    assert invoice(billed, "inv_one_off_c_tax_2") == (
        "one_off", "2026-09-15", D("200.00"), D("0.00"), D("40.00"), D("0.00"), D("240.00"))
    # Row 3, Oct 5: 3 × seat at unit_amount 9.999 (over the add-on's 10) = 29.997 → 30.00; seat has no
    # taxes, so the customer's vat10: 3.00; total 33.00
    assert invoice(billed, "inv_one_off_c_tax_3") == (
        "one_off", "2026-10-05", D("30.00"), D("0.00"), D("3.00"), D("0.00"), D("33.00"))
    assert rows(billed, """select line_id, fee_type, charge_id, units, unit_amount, amount, taxes_amount
                           from billing.invoice_lines where invoice_id like 'inv_one_off_%' order by 1""") == [
        ("inv_one_off_c_tax_2:add_on:setup", "add_on", "setup", D("2"), D("100"), D("200.00"), D("40.00")),
        ("inv_one_off_c_tax_3:add_on:seat", "add_on", "seat", D("3"), D("9.999"), D("30.00"), D("3.00")),
    ]
    # the coupon and the wallet go to September's subscription invoice instead: 50 − 10 = 40,
    # vat10 4.00, 44.00 − 5 prepaid = 39.00
    assert invoice(billed, "inv_s_tax_20260901") == (
        "subscription", "2026-10-01", D("50.00"), D("10.00"), D("4.00"), D("5.00"), D("39.00"))


def test_the_month_files_carry_the_one_off_invoices_and_the_run_adds_up(billed):
    assert rows(billed, "select invoice_type, count(*) from billing.invoices group by 1 order by 1") == [
        ("one_off", 2), ("subscription", 18)]
    # fees: 40 + 54 (trial) + 50 + 150 + 150 (adv) + 42 + 62 (advp) + 50 + 60.97 (pr) + 50 + 50 (tax)
    # + 200 + 30 (one-off) + 400 + 166.67 + 0 + 480 + 480 (seat) + 34.50 + 34.50 (grad) = 2,584.64;
    # coupons 10 + 5 = 15; taxes 4 + 5 + 40 + 3 + 40 + 16.17 + 48 + 48 = 204.17; prepaid 5 + 20 = 25
    # total = 2,584.64 − 15 + 204.17 − 25 = 2,748.81
    assert rows(billed, """select sum(fees_amount), sum(coupons_amount), sum(taxes_amount),
                                  sum(prepaid_credit_amount), sum(total_amount) from billing.invoices""") == [
        (D("2584.64"), D("15.00"), D("204.17"), D("25.00"), D("2748.81"))]


def test_a_fixed_charge_line_shows_its_full_units_and_its_tiers(billed):
    """billing.invoice_lines.full_units (decision 25): a prorated fixed charge's units on the day it is
    priced, before proration; every other line's own units. billing.fee_tiers: a graduated fixed
    charge's tiers, whose amounts add up to the line's."""
    got = rows(billed, """select l.line_id, l.units, l.full_units from billing.invoice_lines as l
                          where l.line_id like '%fixed_charge:fc_pr' or l.line_id like '%fixed_charge:fc_advp'
                             or l.line_id like '%add_on%' or l.line_id like 'inv_s_trial_20260901:%'
                          order by 1""")
    assert got == [
        ("inv_one_off_c_tax_2:add_on:setup", D("2"), D("2")),
        ("inv_one_off_c_tax_3:add_on:seat", D("3"), D("3")),
        # s_advp closing October: November in advance, whole: 2 of 2
        ("inv_s_advp_20261011:fixed_charge:fc_advp", D("2"), D("2")),
        # opening Oct 11: 21 of 31 days of the 2 seats
        ("inv_s_advp_20261011_open:fixed_charge:fc_advp", D("1.3548387097"), D("2")),
        # September: 50 seat-days / 30 of the 3 seats held on Sep 30; October: 63/31 of the 0 held on Oct 31
        ("inv_s_pr_20260901:fixed_charge:fc_pr", D("1.6666666667"), D("3")),
        ("inv_s_pr_20261001:fixed_charge:fc_pr", D("2.0322580645"), D("0")),
        ("inv_s_trial_20260901:fixed_charge:fc_trial", D("2"), D("2")),
        ("inv_s_trial_20260901:subscription:20260901", D("1"), D("1")),
    ]
    # fc_grad, 7 seats, graduated [0, 5] 0.1 + flat 10, [6, ∞) 2 + flat 20: tier 1 5 × 0.1 + 10 = 10.5;
    # tier 2 7 − 6 + 1 = 2 units, 2 × 2 + 20 = 24; the line 34.50, each month
    assert rows(billed, """select l.invoice_id, l.units, l.amount, t.tier_index, t.units, t.flat_amount, t.amount
                           from billing.invoice_lines as l
                           inner join billing.fee_tiers as t on l.line_id = t.line_id
                           where l.charge_id = 'fc_grad' order by 1, 4""") == [
        ("inv_s_grad_20260901", D("7"), D("34.50"), 1, D("5"), D("10"), D("10.5")),
        ("inv_s_grad_20260901", D("7"), D("34.50"), 2, D("2"), D("20"), D("24")),
        ("inv_s_grad_20261001", D("7"), D("34.50"), 1, D("5"), D("10"), D("10.5")),
        ("inv_s_grad_20261001", D("7"), D("34.50"), 2, D("2"), D("20"), D("24")),
    ]
