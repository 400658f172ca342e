"""A wallet purchase on the last local day of the billing window, after midnight UTC (found by
the oracle, tests/oracle, world seed 10): the purchase is in the window (its credit invoice is
dated Oct 31 in New York) and it pays the October invoice, so the ledger must show it. The
ledger filtered purchases by UTC instant against the window's end date, left this one out, went
to -10.00 and the non-negative check blocked every publication."""
from __future__ import annotations

import json
from decimal import Decimal as D

from tests.helpers import rows, tally

CATALOG = {
    "customers.csv": "external_id,name,currency,timezone,tax_codes\ncus_1,NY,USD,America/New_York,\n",
    "billable_metrics.csv": ("code,name,aggregation_type,field_name,recurring,rounding_function,"
                             "rounding_precision,filters\ncalls,Calls,count_agg,,false,,,\n"),
    "plans.csv": ("code,name,interval,amount,currency,pay_in_advance,trial_period,minimum_commitment\n"
                  "p_1,Plan,monthly,10.00,USD,false,0,\n"),
    "charges.csv": ("id,plan_code,billable_metric_code,charge_model,properties,pay_in_advance,min_amount,"
                    'invoice_display_name,filters\nc_1,p_1,calls,standard,"{""amount"": ""0""}",false,,Calls,\n'),
    "subscriptions.csv": ("external_id,external_customer_id,plan_code,started_at,ending_at,billing_time\n"
                          "sub_1,cus_1,p_1,2026-10-01,,calendar\n"),
    "wallets.csv": "id,external_customer_id,currency,rate_amount,priority,expiration_at\nw_1,cus_1,USD,0.01,,\n",
    # 2026-11-01 01:00 UTC is Oct 31, 21:00 in New York: before the October invoice is issued
    # (Nov 1, 00:00 New York = 04:00 UTC)
    "wallet_transactions.csv": "wallet_id,credits,kind,created_at\nw_1,2000,purchased,2026-11-01T01:00:00Z\n",
}


def test_purchase_on_the_windows_last_local_day_after_utc_midnight(tmp_path):
    catalog, landing = tmp_path / "catalog", tmp_path / "landing"
    catalog.mkdir()
    landing.mkdir()
    for name, text in CATALOG.items():
        (catalog / name).write_text(text)
    (landing / "events.jsonl").write_text(json.dumps(
        {"transaction_id": "e1", "external_subscription_id": "sub_1", "code": "calls",
         "timestamp": "2026-10-15T12:00:00Z", "properties": {}}) + "\n")
    warehouse = tmp_path / "w.duckdb"
    tally("run", "--catalog", str(catalog), "--landing", str(landing), "--warehouse", str(warehouse),
          "--period", "2026-10", "--no-pages", "--publish", str(tmp_path / "published"))
    assert rows(warehouse, "select invoice_id, issuing_date::varchar, fees_amount, prepaid_credit_amount, "
                           "total_amount from billing.invoices order by 1") == [
        # 2000 credits x 0.01 = 20.00, dated Oct 31 (New York)
        ("inv_credit_w_1_2", "2026-10-31", D("20.00"), D("0"), D("20.00")),
        # October: 10.00, paid by the wallet
        ("inv_sub_1_20261001", "2026-11-01", D("10.00"), D("10.00"), D("0")),
    ]
    assert rows(warehouse, "select entry_type, invoice_id, amount, balance_amount from billing.wallet_ledger "
                           "order by entry_at") == [
        ("purchased", "inv_credit_w_1_2", D("20.00"), D("20.00")),
        ("consumed", "inv_sub_1_20261001", D("-10.00"), D("10.00")),
    ]
