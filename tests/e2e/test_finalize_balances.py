"""A finalized invoice keeps the prepaid credits it took (issue 11, item 4): re-rating its month
never moves the wallet ledger; the difference is an adjustment, and the later draft invoices
take what the wallet holds after the frozen amounts.

cus_a (sub_a, USD) has a 100.00-credit wallet at 1.00 a credit, granted 2026-09-15. October
and November are billed, October is finalized, then a late October event (1,000 "large"
tokens at 0.003 = +3.00) lands and both months are billed again.
"""
from __future__ import annotations

import json
import shutil
from decimal import Decimal as D

import pytest

from tests.helpers import copy_landing, rows, tally

LEDGER = ("select wallet_id, entry_type, invoice_id, amount from billing.wallet_ledger "
          "where entry_type = 'consumed' order by all")
INVOICES = ("select invoice_id, sub_total_including_taxes, prepaid_credit_amount, total_amount, status "
            "from billing.invoices where external_customer_id = 'cus_a' order by all")


@pytest.fixture(scope="module")
def world(tmp_path_factory, small_catalog):
    base = tmp_path_factory.mktemp("finalize_balances")
    catalog = shutil.copytree(small_catalog, base / "catalog")
    (catalog / "wallets.csv").write_text("id,external_customer_id,currency,rate_amount,priority,expiration_at\n"
                                         "w_a,cus_a,USD,1.00,1,\n")
    (catalog / "wallet_transactions.csv").write_text("wallet_id,credits,kind,created_at\n"
                                                     "w_a,100,granted,2026-09-15T00:00:00Z\n")
    landing = copy_landing("small", base / "landing")
    warehouse = base / "w.duckdb"
    args = ("run", "--catalog", str(catalog), "--landing", str(landing), "--warehouse", str(warehouse),
            "--from", "2026-10", "--to", "2026-11", "--no-pages", "--publish", str(base / "published"))
    tally(*args)
    tally("finalize", "--period", "2026-10", "--warehouse", str(warehouse), "--publish", str(base / "published"))
    before = {"ledger": rows(warehouse, LEDGER), "invoices": rows(warehouse, INVOICES)}
    (landing / "d_late.jsonl").write_text(json.dumps({
        "transaction_id": "tok_late", "external_subscription_id": "sub_a", "code": "tokens",
        "timestamp": "2026-10-10T08:00:00Z", "properties": {"tokens": 1000, "model": "large"}}) + "\n")
    tally(*args)
    after = {"ledger": rows(warehouse, LEDGER), "invoices": rows(warehouse, INVOICES)}
    return before, after


def test_the_wallet_ledger_does_not_move(world):
    before, after = world
    # October (62.76) is paid in full by the wallet, November (49.00) takes the 37.24 left;
    # without the freeze the re-rated October (65.76) would take 3.00 more and November less
    assert before["ledger"] == [("w_a", "consumed", "inv_sub_a_20261001", D("-62.76")),
                                ("w_a", "consumed", "inv_sub_a_20261101", D("-37.24"))]
    assert after["ledger"] == before["ledger"]


def test_the_difference_is_an_adjustment_the_wallet_does_not_pay(world):
    before, after = world
    # (invoice, sub_total_including_taxes, prepaid_credit_amount, total_amount, status)
    assert before["invoices"] == [
        ("inv_sub_a_20261001", D("62.76"), D("62.76"), D("0.00"), "finalized"),
        ("inv_sub_a_20261101", D("49.00"), D("37.24"), D("11.76"), "draft"),
    ]
    assert after["invoices"] == [
        ("inv_sub_a_20261001", D("62.76"), D("62.76"), D("0.00"), "finalized"),
        ("inv_sub_a_20261001_adj", D("3.00"), D("0.00"), D("3.00"), "draft"),
        ("inv_sub_a_20261101", D("49.00"), D("37.24"), D("11.76"), "draft"),
    ]
