"""Money features end to end (issue 3): charge minimums, commitments, coupons, taxes, prepaid
wallets with expiry, progressive billing — one small catalog, every figure worked out by hand
in the comments next to the assertion, run through `tally run` like a user would."""
from __future__ import annotations

import json
from decimal import Decimal as D
from pathlib import Path

import duckdb
import pytest

from conftest import tally

CATALOG = {
    "customers.csv": """external_id,name,currency,timezone,tax_codes
c_a,Alpha,USD,UTC,tax10
c_b,Beta,USD,UTC,
c_c,Gamma,USD,UTC,
""",
    "billable_metrics.csv": """code,name,aggregation_type,field_name,recurring,rounding_function,rounding_precision,filters
api_calls,API calls,count_agg,,false,,,
""",
    "plans.csv": """code,name,interval,amount,currency,pay_in_advance,trial_period,minimum_commitment
p_a,Committed,monthly,10.00,USD,false,0,100.00
p_b,Prepaid,monthly,0,USD,false,0,
p_c,Thresholds,monthly,0,USD,false,0,
""",
    "charges.csv": """id,plan_code,billable_metric_code,charge_model,properties,pay_in_advance,min_amount,invoice_display_name,filters
ch_a,p_a,api_calls,standard,"{""amount"": ""0.50""}",false,20.00,Calls,
ch_b,p_b,api_calls,standard,"{""amount"": ""0.10""}",false,,Calls,
ch_c,p_c,api_calls,standard,"{""amount"": ""1.00""}",false,,Calls,
""",
    "subscriptions.csv": """external_id,external_customer_id,plan_code,started_at,ending_at,billing_time
s_a,c_a,p_a,2026-10-01,,calendar
s_b,c_b,p_b,2026-10-01,,calendar
s_c,c_c,p_c,2026-10-01,,calendar
""",
    "taxes.csv": """code,name,rate,applied_by_default
tax10,Ten percent,10,false
""",
    "coupons.csv": """code,coupon_type,amount,percentage_rate,frequency,frequency_duration
TENOFF,percentage,,10,forever,
""",
    "applied_coupons.csv": """coupon_code,external_customer_id,applied_at
TENOFF,c_a,2026-10-01
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
""",
}


def calls(sub: str, month: int, count: int) -> list[dict]:
    """`count` API calls, one an hour from the 2nd of the month 00:00 UTC."""
    return [{"transaction_id": f"{sub}_{month}_{i}", "external_subscription_id": sub, "code": "api_calls",
             "timestamp": f"2026-{month:02d}-{2 + i // 24:02d}T{i % 24:02d}:00:00Z", "properties": {}}
            for i in range(count)]


@pytest.fixture(scope="module")
def money(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("money")
    catalog, landing = root / "catalog", root / "landing"
    catalog.mkdir()
    landing.mkdir()
    for name, text in CATALOG.items():
        (catalog / name).write_text(text)
    events = (calls("s_a", 10, 30) + calls("s_b", 10, 150) + calls("s_b", 11, 20)
              + calls("s_c", 10, 30) + calls("s_c", 11, 22))
    (landing / "events.jsonl").write_text("".join(json.dumps(e) + "\n" for e in events))
    warehouse = root / "warehouse.duckdb"
    tally("run", "--catalog", str(catalog), "--landing", str(landing), "--warehouse", str(warehouse),
          "--from", "2026-10", "--to", "2026-11")
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
                         "where invoice_type = 'progressive_billing' order by 1")
    # call 10 is at Oct 2 09:00, call 25 at Oct 3 00:00, November call 20 at Nov 2 19:00 (UTC)
    assert issued == [("inv_s_c_20261001_pb1", "2026-10-02"), ("inv_s_c_20261001_pb2", "2026-10-03"),
                      ("inv_s_c_20261101_pb1", "2026-11-02")]
