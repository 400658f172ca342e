"""Money features end to end (issue 3): charge minimums, commitments, coupons, taxes, prepaid
wallets with expiry, progressive billing — one small catalog, every figure worked out by hand
in the comments next to the assertion, run through `tally run` like a user would."""
from __future__ import annotations

import json
from decimal import Decimal as D
from pathlib import Path

import duckdb
import pytest

from tests.helpers import tally

CATALOG = {
    "customers.csv": """external_id,name,currency,timezone,tax_codes
c_a,Alpha,USD,UTC,tax10
c_b,Beta,USD,UTC,tax0
c_c,Gamma,USD,UTC,tax0
c_d,Delta,USD,UTC,
c_e,Epsilon,USD,UTC,tax10
c_g,Gaku,JPY,UTC,tax10
c_h,Hotel,USD,UTC,tax0
c_i,India,USD,UTC,tax0
""",
    "billable_metrics.csv": """code,name,aggregation_type,field_name,recurring,rounding_function,rounding_precision,filters
api_calls,API calls,count_agg,,false,,,
seats,Seats,unique_count_agg,user_id,false,,,
""",
    "plans.csv": """code,name,interval,amount,currency,pay_in_advance,trial_period,minimum_commitment,tax_codes
p_a,Committed,monthly,10.00,USD,false,0,100.00,
p_b,Prepaid,monthly,0,USD,false,0,,
p_c,Thresholds,monthly,0,USD,false,0,,
p_d,Coupons,monthly,100.00,USD,false,0,,
p_e,Taxed,monthly,10.00,USD,false,0,,tax20
p_g,Yen,monthly,1000,JPY,false,0,3001,
p_h,Seats,monthly,5.00,USD,false,0,,
p_i,Yearly,yearly,0,USD,false,0,1200.00,
""",
    "charges.csv": """id,plan_code,billable_metric_code,charge_model,properties,pay_in_advance,min_amount,invoice_display_name,filters,tax_codes
ch_a,p_a,api_calls,standard,"{""amount"": ""0.50""}",false,20.00,Calls,,
ch_b,p_b,api_calls,standard,"{""amount"": ""0.10""}",false,,Calls,,
ch_c,p_c,api_calls,standard,"{""amount"": ""1.00""}",false,,Calls,,
ch_e1,p_e,api_calls,standard,"{""amount"": ""1.00""}",false,,Calls (charge tax),,tax5
ch_e2,p_e,api_calls,standard,"{""amount"": ""2.00""}",false,,Calls (plan tax),,
ch_g,p_g,api_calls,standard,"{""amount"": ""3.3""}",false,,Calls,,
ch_h,p_h,seats,standard,"{""amount"": ""10.00""}",false,,Seats,,
ch_i,p_i,api_calls,standard,"{""amount"": ""1.00""}",false,,Calls,,
""",
    "subscriptions.csv": """external_id,external_customer_id,plan_code,started_at,ending_at,billing_time
s_a,c_a,p_a,2026-10-01,,calendar
s_b,c_b,p_b,2026-10-01,,calendar
s_c,c_c,p_c,2026-10-01,,calendar
s_d,c_d,p_d,2026-10-01,,calendar
s_e,c_e,p_e,2026-10-01,,calendar
s_g,c_g,p_g,2026-10-17,,calendar
s_h,c_h,p_h,2026-10-01,,calendar
s_i,c_i,p_i,2025-11-01,,anniversary
""",
    "taxes.csv": """code,name,rate,applied_by_default
tax10,Ten percent,10,false
tax20,Twenty percent,20,false
tax5,Five percent,5,false
tax0,Exempt,0,false
taxdef,Default one percent,1,true
""",
    "coupons.csv": """code,coupon_type,amount,percentage_rate,frequency,frequency_duration
TENOFF,percentage,,10,forever,
FIX150,fixed_amount,150.00,,once,
HALF,percentage,,50,recurring,1
FIVE,fixed_amount,5.00,,forever,
""",
    "applied_coupons.csv": """coupon_code,external_customer_id,applied_at
TENOFF,c_a,2026-10-01
FIX150,c_d,2026-09-20
HALF,c_d,2026-09-25
FIVE,c_d,2026-10-15
""",
    "wallets.csv": """id,external_customer_id,currency,rate_amount,priority,expiration_at
w_b,c_b,USD,0.01,50,
w_b_promo,c_b,USD,0.01,1,2026-10-20T00:00:00Z
""",
    "wallet_transactions.csv": """wallet_id,credits,kind,created_at
w_b,1000,purchased,2026-10-01T00:00:00Z
w_b_promo,300,granted,2026-10-02T00:00:00Z
w_b,500,purchased,2026-11-15T00:00:00Z
""",
    "usage_thresholds.csv": """plan_code,amount,recurring
p_c,10,false
p_c,25,true
p_h,20,false
""",
}


def calls(sub: str, month: int, count: int, first_day: int = 2) -> list[dict]:
    """`count` API calls, one an hour from `first_day` of the month 00:00 UTC."""
    return [{"transaction_id": f"{sub}_{month}_{i}", "external_subscription_id": sub, "code": "api_calls",
             "timestamp": f"2026-{month:02d}-{first_day + i // 24:02d}T{i % 24:02d}:00:00Z", "properties": {}}
            for i in range(count)]


def seat(sub: str, tid: str, ts: str, user: str, operation: str = "add") -> dict:
    return {"transaction_id": tid, "external_subscription_id": sub, "code": "seats", "timestamp": ts,
            "properties": {"user_id": user, "operation_type": operation}}


@pytest.fixture(scope="module")
def money(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("money")
    catalog, landing = root / "catalog", root / "landing"
    catalog.mkdir()
    landing.mkdir()
    for name, text in CATALOG.items():
        (catalog / name).write_text(text)
    events = (calls("s_a", 10, 30) + calls("s_b", 10, 150) + calls("s_b", 11, 20)
              + calls("s_c", 10, 30) + calls("s_c", 11, 22) + calls("s_e", 10, 10) + calls("s_g", 10, 7, 20)
              + calls("s_i", 10, 7)
              + [seat("s_h", "h1", "2026-10-02T00:00:00Z", "u1"), seat("s_h", "h2", "2026-10-02T01:00:00Z", "u2"),
                 seat("s_h", "h3", "2026-10-03T00:00:00Z", "u2", "remove")])
    (landing / "events.jsonl").write_text("".join(json.dumps(e) + "\n" for e in events))
    warehouse = root / "warehouse.duckdb"
    tally("run", "--catalog", str(catalog), "--landing", str(landing), "--warehouse", str(warehouse),
          "--from", "2026-10", "--to", "2026-11", "--publish", str(root / "published"))
    return warehouse


def rows(warehouse: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(sql).fetchall()


INVOICE_COLS = ("fees_amount, progressive_billing_credit_amount, coupons_amount, sub_total_excluding_taxes, "
                "taxes_amount, sub_total_including_taxes, credit_notes_amount, prepaid_credit_amount, total_amount")


def invoice(warehouse: Path, invoice_id: str) -> tuple:
    found = rows(warehouse, f"select {INVOICE_COLS} from billing.invoices where invoice_id = '{invoice_id}'")
    assert len(found) == 1, invoice_id
    return tuple(found[0])


def test_true_up_commitment_coupon_and_tax(money):
    # October: 30 calls × 0.50 = 15.00 < min_amount 20.00 → true-up 5.00;
    # fees 10.00 + 15.00 + 5.00 = 30.00 < commitment 100.00 → commitment 70.00; fees 100.00.
    # TENOFF 10 % of 100.00 = 10.00 → 90.00; tax 10 % of 90.00 = 9.00 → 99.00.
    assert invoice(money, "inv_s_a_20261001") == (
        D("100"), D("0"), D("10"), D("90"), D("9"), D("99"), D("0"), D("0"), D("99"))
    lines = rows(money, "select line_id, fee_type, amount, taxes_amount from billing.invoice_lines "
                        "where invoice_id = 'inv_s_a_20261001' order by line_id")
    # each fee's tax is 10 % of its amount less its 10 % coupon share
    assert lines == [
        ("inv_s_a_20261001:ch_a:0", "charge", D("15"), D("1.35")),
        ("inv_s_a_20261001:ch_a:true_up", "charge", D("5"), D("0.45")),
        ("inv_s_a_20261001:commitment", "commitment", D("70"), D("6.30")),
        ("inv_s_a_20261001:subscription:20261001", "subscription", D("10"), D("0.90")),
    ]
    # November: no calls → charge 0, true-up 20.00; 10 + 0 + 20 = 30 → commitment 70.00; same totals.
    assert invoice(money, "inv_s_a_20261101") == (
        D("100"), D("0"), D("10"), D("90"), D("9"), D("99"), D("0"), D("0"), D("99"))


def test_wallets_pay_in_priority_and_expired_credits_are_not_spent(money):
    # Purchase of 1000 credits at 0.01 → a credit invoice of 10.00, not taxed, not paid by wallets.
    assert invoice(money, "inv_credit_w_b_2") == (
        D("10"), D("0"), D("0"), D("10"), D("0"), D("10"), D("0"), D("0"), D("10"))
    # October: 150 calls × 0.10 = 15.00, issued Nov 1. The priority-1 promo wallet expired Oct 20
    # with its 300 granted credits unspent; w_b pays its 10.00 → total 5.00.
    assert invoice(money, "inv_s_b_20261001") == (
        D("15"), D("0"), D("0"), D("15"), D("0"), D("15"), D("0"), D("10"), D("5"))
    # November: 20 calls = 2.00, issued Dec 1; 500 credits bought Nov 15 (5.00) pay it → 0.
    assert invoice(money, "inv_s_b_20261101") == (
        D("2"), D("0"), D("0"), D("2"), D("0"), D("2"), D("0"), D("2"), D("0"))
    ledger = rows(money, "select wallet_id, entry_type, invoice_id, credits, amount, balance_credits, balance_amount "
                         "from billing.wallet_ledger order by wallet_id, entry_at, entry_type")
    assert ledger == [
        ("w_b", "purchased", "inv_credit_w_b_2", D("1000"), D("10"), D("1000"), D("10")),
        ("w_b", "consumed", "inv_s_b_20261001", D("-1000"), D("-10"), D("0"), D("0")),
        ("w_b", "purchased", "inv_credit_w_b_4", D("500"), D("5"), D("500"), D("5")),
        ("w_b", "consumed", "inv_s_b_20261101", D("-200"), D("-2"), D("300"), D("3")),
        ("w_b_promo", "granted", None, D("300"), D("3"), D("300"), D("3")),
        ("w_b_promo", "expired", None, D("-300"), D("-3"), D("0"), D("0")),
    ]


def test_progressive_billing_invoices_and_period_end_deduction(money):
    # Thresholds: 10 (fixed) and 25 recurring → levels 10, 25, 50, 75, ... of lifetime usage.
    # October, 1.00 per call: call 10 → PB1 bills 10.00; call 25 → PB2 bills 25.00 less PB1's 10.00.
    assert invoice(money, "inv_s_c_20261001_pb1") == (
        D("10"), D("0"), D("0"), D("10"), D("0"), D("10"), D("0"), D("0"), D("10"))
    assert invoice(money, "inv_s_c_20261001_pb2") == (
        D("25"), D("10"), D("0"), D("15"), D("0"), D("15"), D("0"), D("0"), D("15"))
    # Closing October: 30.00 of usage less the 25.00 already billed → 5.00.
    assert invoice(money, "inv_s_c_20261001") == (
        D("30"), D("25"), D("0"), D("5"), D("0"), D("5"), D("0"), D("0"), D("5"))
    # November starts at lifetime 30.00: the next level, 50, is reached at November call 20.
    assert invoice(money, "inv_s_c_20261101_pb1") == (
        D("20"), D("0"), D("0"), D("20"), D("0"), D("20"), D("0"), D("0"), D("20"))
    assert invoice(money, "inv_s_c_20261101") == (
        D("22"), D("20"), D("0"), D("2"), D("0"), D("2"), D("0"), D("0"), D("2"))
    issued = rows(money, "select invoice_id, issuing_date::varchar from billing.invoices "
                         "where invoice_type = 'progressive_billing' and external_subscription_id = 's_c' order by 1")
    # call 10 is at Oct 2 09:00, call 25 at Oct 3 00:00, November call 20 at Nov 2 19:00 (UTC)
    assert issued == [("inv_s_c_20261001_pb1", "2026-10-02"), ("inv_s_c_20261001_pb2", "2026-10-03"),
                      ("inv_s_c_20261101_pb1", "2026-11-02")]


def test_coupons_apply_oldest_first_and_never_past_zero(money):
    # October, fees 100.00: FIX150 (applied first) takes 100.00 of its 150.00 budget; nothing
    # is left, so HALF and FIVE are not used (HALF's one use is kept). Default tax 1 % of 0.
    assert invoice(money, "inv_s_d_20261001") == (
        D("100"), D("0"), D("100"), D("0"), D("0"), D("0"), D("0"), D("0"), D("0"))
    # November: FIX150's last 50.00 → 50.00 left; HALF 50 % → 25.00; FIVE 5.00 → 20.00.
    # Default tax 1 % of 20.00 = 0.20 → 20.20.
    assert invoice(money, "inv_s_d_20261101") == (
        D("100"), D("0"), D("80"), D("20"), D("0.2"), D("20.2"), D("0"), D("0"), D("20.2"))
    assert rows(money, "select invoice_id, coupon_code, amount from intermediate.int_invoice_coupons "
                       "where invoice_id like 'inv_s_d_%' order by invoice_id, coupon_rank") == [
        ("inv_s_d_20261001", "FIX150", D("100")),
        ("inv_s_d_20261101", "FIX150", D("50")), ("inv_s_d_20261101", "HALF", D("25")),
        ("inv_s_d_20261101", "FIVE", D("5"))]


def test_tax_precedence_charge_then_plan_then_customer(money):
    # c_e has customer tax 10 %, plan p_e has 20 %, charge ch_e1 has 5 %: the first level wins.
    # subscription 10.00 × 20 % = 2.00; ch_e1 10 calls × 1.00 = 10.00 × 5 % = 0.50;
    # ch_e2 10 calls × 2.00 = 20.00 × 20 % = 4.00 → taxes 6.50, total 46.50.
    assert invoice(money, "inv_s_e_20261001") == (
        D("40"), D("0"), D("0"), D("40"), D("6.5"), D("46.5"), D("0"), D("0"), D("46.5"))
    assert rows(money, "select line_id, taxes_amount from billing.invoice_lines "
                       "where invoice_id = 'inv_s_e_20261001' order by line_id") == [
        ("inv_s_e_20261001:ch_e1:0", D("0.5")), ("inv_s_e_20261001:ch_e2:0", D("4")),
        ("inv_s_e_20261001:subscription:20261001", D("2"))]


def test_yen_partial_period_commitment_and_half_up_taxes(money):
    # s_g starts Oct 17: 15 of 31 days. Fee 1000 × 15/31 = 483.87 → 484 JPY; 7 calls × 3.3 =
    # 23.1 → 23; commitment 3001 × 15/31 = 1452.10 → 1452, shortfall 1452 - 507 = 945.
    # Tax 10 %: 48.4 + 2.3 + 94.5 = 145.2 → 145 (the commitment's own 94.5 rounds half-up to 95).
    assert invoice(money, "inv_s_g_20261017") == (
        D("1452"), D("0"), D("0"), D("1452"), D("145"), D("1597"), D("0"), D("0"), D("1597"))
    assert rows(money, "select fee_type, amount, taxes_amount from billing.invoice_lines "
                       "where invoice_id = 'inv_s_g_20261017' order by line_id") == [
        ("charge", D("23"), D("2")), ("commitment", D("945"), D("95")), ("subscription", D("484"), D("48"))]
    # November, whole month: 1000 + 0 calls → shortfall 2001; tax 300.1 → 300.
    assert invoice(money, "inv_s_g_20261101") == (
        D("3001"), D("0"), D("0"), D("3001"), D("300"), D("3301"), D("0"), D("0"), D("3301"))


def test_yearly_commitment_checked_once_at_year_end(money):
    # s_i: yearly from 2025-11-01 (anniversary); its year closes 2026-10-31 with 7 calls = 7.00
    # against 1200.00 → commitment 1193.00. The next year has not closed: no other invoice.
    assert invoice(money, "inv_s_i_20251101") == (
        D("1200"), D("0"), D("0"), D("1200"), D("0"), D("1200"), D("0"), D("0"), D("1200"))
    assert rows(money, "select invoice_id from billing.invoices where external_subscription_id = 's_i'") == [
        ("inv_s_i_20251101",)]


def test_progressive_excess_becomes_a_credit_note(money):
    # Seats at 10.00, threshold 20: u1 and u2 added Oct 2 → lifetime 20.00 → pb1 bills 20.00.
    assert invoice(money, "inv_s_h_20261001_pb1") == (
        D("20"), D("0"), D("0"), D("20"), D("0"), D("20"), D("0"), D("0"), D("20"))
    # u2 removed Oct 3: the month ends with 1 seat = 10.00 (+ plan 5.00). The deduction is capped
    # at the closing invoice's charges (10.00); the other 10.00 is a credit note on pb1, which
    # pays this invoice's remaining 5.00 ...
    assert invoice(money, "inv_s_h_20261001") == (
        D("15"), D("10"), D("0"), D("5"), D("0"), D("5"), D("5"), D("0"), D("0"))
    assert rows(money, "select credit_note_id, invoice_id, reason, amount, taxes_amount, total_amount, "
                       "issuing_date::varchar from billing.credit_notes") == [
        ("cn_inv_s_h_20261001_pb1_20261101", "inv_s_h_20261001_pb1", "progressive_billing_excess",
         D("10"), D("0"), D("10"), "2026-11-01")]
    # ... and November's 5.00 (plan fee, no seats) with the last 5.00.
    assert invoice(money, "inv_s_h_20261101") == (
        D("5"), D("0"), D("0"), D("5"), D("0"), D("5"), D("5"), D("0"), D("0"))


def test_explain_progressive_invoice_line(money):
    """`tally explain` on a progressive invoice's line (issue 15 audit trail): s_c's calls at 1.00,
    one an hour from Oct 2 00:00 UTC; lifetime usage reaches the recurring level 25 at call 25
    (s_c_10_24, Oct 3 00:00): pb2 bills the period so far, 25 × 1.00 = 25.00, less pb1's 10.00."""
    from orchestration.explain import explain_text
    out = explain_text(money, "inv_s_c_20261001_pb2:ch_c:0", 25).splitlines()
    assert "  invoice       inv_s_c_20261001_pb2 (progressive_billing, draft), issued 2026-10-03, USD" in out
    # the events behind it: the first 25 calls of the period, up to the crossing one (events.jsonl:
    # s_a's 30 and s_b's 170 calls come first, so s_c's first call is line 201)
    assert "Events: 25" in out
    events = [line for line in out if "events.jsonl" in line]
    assert events[0] == "  2026-10-02 00:00:00  events.jsonl            201  s_c_10_0             "
    assert events[-1] == "  2026-10-03 00:00:00  events.jsonl            225  s_c_10_24            "
    assert len(events) == 25
    assert ("  progressive billing: usage from the period start through the event that crossed the threshold "
            "at 2026-10-03 00:00:00 (events at that instant included)") in out
    assert "  standard: 25 units × 1 = 25" in out
    assert "  rounded amount    25.00 (USD, 2 decimals, half away from zero)" in out
    # to the total: fees 25.00 − 10.00 already billed by pb1 = 15.00 (customer c_c: tax0)
    assert "  fees                                 25.00   this line 25.00" in out
    assert ("  progressive billing credit          -10.00   what the period's progressive invoices already billed"
            in out)
    assert "  taxes                                 0.00   this line 0.00: (25.00 − 10 of credit and coupons) × 0 %" \
        in out
    assert "  total                                15.00" in out
