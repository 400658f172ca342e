"""A wallet that expires on the last local day of the billing window, after midnight UTC, is
expired in the window; one that expires after the window's last local day is not, even when
that is still inside the window in UTC. The ledger took expiries by UTC instant against the
window's end date, whereas purchases follow the customer's local day
(tests/e2e/test_wallet_ledger_window.py): the New York expiry was left out (the ledger ended
October at 20.00 in a wallet that could no longer pay anything) and the Tokyo one, on November 1
in Tokyo, was shown in October."""
from __future__ import annotations

import json
from decimal import Decimal as D

from tests.helpers import rows, tally

CATALOG = {
    "customers.csv": ("external_id,name,currency,timezone,tax_codes\n"
                      "cus_ny,NY,USD,America/New_York,\ncus_tk,Tokyo,USD,Asia/Tokyo,\n"),
    "billable_metrics.csv": ("code,name,aggregation_type,field_name,recurring,rounding_function,"
                             "rounding_precision,filters\ncalls,Calls,count_agg,,false,,,\n"),
    "plans.csv": ("code,name,interval,amount,currency,pay_in_advance,trial_period,minimum_commitment\n"
                  "p_1,Plan,monthly,10.00,USD,false,0,\n"),
    "charges.csv": ("id,plan_code,billable_metric_code,charge_model,properties,pay_in_advance,min_amount,"
                    'invoice_display_name,filters\nc_1,p_1,calls,standard,"{""amount"": ""0""}",false,,Calls,\n'),
    "subscriptions.csv": ("external_id,external_customer_id,plan_code,started_at,ending_at,billing_time\n"
                          "sub_ny,cus_ny,p_1,2026-10-01,,calendar\nsub_tk,cus_tk,p_1,2026-10-01,,calendar\n"),
    # w_ny: 2026-11-01 03:00 UTC is Oct 31, 23:00 in New York, before the October invoice is
    # issued (Nov 1, 00:00 New York = 04:00 UTC), which it therefore does not pay.
    # w_tk: 2026-10-31 20:00 UTC is Nov 1, 05:00 in Tokyo, after the October invoice is issued
    # (Nov 1, 00:00 Tokyo = Oct 31, 15:00 UTC), which it pays.
    "wallets.csv": ("id,external_customer_id,currency,rate_amount,priority,expiration_at\n"
                    "w_ny,cus_ny,USD,0.01,,2026-11-01T03:00:00Z\nw_tk,cus_tk,USD,0.01,,2026-10-31T20:00:00Z\n"),
    "wallet_transactions.csv": ("wallet_id,credits,kind,created_at\n"
                                "w_ny,2000,purchased,2026-10-10T12:00:00Z\nw_tk,2000,purchased,2026-10-10T12:00:00Z\n"),
}


def test_expiry_follows_the_customers_local_window(tmp_path):
    catalog, landing = tmp_path / "catalog", tmp_path / "landing"
    catalog.mkdir()
    landing.mkdir()
    for name, text in CATALOG.items():
        (catalog / name).write_text(text)
    (landing / "events.jsonl").write_text("".join(json.dumps(
        {"transaction_id": f"e_{sub}", "external_subscription_id": sub, "code": "calls",
         "timestamp": "2026-10-15T12:00:00Z", "properties": {}}) + "\n" for sub in ("sub_ny", "sub_tk")))
    warehouse = tmp_path / "w.duckdb"
    tally("run", "--catalog", str(catalog), "--landing", str(landing), "--warehouse", str(warehouse),
          "--period", "2026-10", "--no-pages", "--publish", str(tmp_path / "published"))
    assert rows(warehouse, "select invoice_id, issuing_date::varchar, fees_amount, prepaid_credit_amount, "
                           "total_amount from billing.invoices order by 1") == [
        # 2000 credits x 0.01 = 20.00 each
        ("inv_credit_w_ny_2", "2026-10-10", D("20.00"), D("0"), D("20.00")),
        ("inv_credit_w_tk_3", "2026-10-10", D("20.00"), D("0"), D("20.00")),
        # New York: issued after w_ny expired, nothing from the wallet
        ("inv_sub_ny_20261001", "2026-11-01", D("10.00"), D("0.00"), D("10.00")),
        # Tokyo: issued before w_tk expires, paid by it
        ("inv_sub_tk_20261001", "2026-11-01", D("10.00"), D("10.00"), D("0")),
    ]
    assert rows(warehouse, "select wallet_id, entry_type, entry_at::varchar, invoice_id, amount, balance_amount "
                           "from billing.wallet_ledger order by wallet_id, entry_at") == [
        # expired on Oct 31 in New York: in October's ledger, the 20.00 are lost
        ("w_ny", "purchased", "2026-10-10 12:00:00", "inv_credit_w_ny_2", D("20.00"), D("20.00")),
        ("w_ny", "expired", "2026-11-01 03:00:00", None, D("-20.00"), D("0.00")),
        # expires on Nov 1 in Tokyo: not in October's ledger, which ends with 10.00 left
        ("w_tk", "purchased", "2026-10-10 12:00:00", "inv_credit_w_tk_3", D("20.00"), D("20.00")),
        ("w_tk", "consumed", "2026-10-31 15:00:00", "inv_sub_tk_20261001", D("-10.00"), D("10.00")),
    ]
