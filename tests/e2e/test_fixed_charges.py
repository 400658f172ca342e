"""Fixed charges, add-ons and one-off invoices end to end (issue 17 item 3; Lago fixed_charges,
add_ons, invoices of type one_off), through `tally run` over September (30 days) and October 2026
(31 days). Every figure is worked by hand next to its assertion; the rules and their Lago files
are in docs/decisions.md (23). The Lago spec cases are dbt unit tests beside the models
(_unit_tests_fixed_charges.yml)."""
from __future__ import annotations

from decimal import Decimal as D
from pathlib import Path

import duckdb
import pytest

from tests.helpers import tally

CATALOG = {
    "customers.csv": """external_id,name,currency,timezone,tax_codes
c_usd,USD customer,USD,UTC,
c_tax,Taxed customer,USD,UTC,vat10
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
""",
    "fixed_charge_units.csv": """external_subscription_id,fixed_charge_id,units,effective_on
s_adv,fc_adv,3,2026-10-01
s_pr,fc_pr,3,2026-09-21
s_pr,fc_pr,0,2026-10-22
""",
    "subscriptions.csv": """external_id,external_customer_id,plan_code,started_at,ending_at,billing_time
s_trial,c_usd,p_trial,2026-09-01,,calendar
s_adv,c_usd,p_adv,2026-09-10,,calendar
s_advp,c_usd,p_advp,2026-10-11,,calendar
s_pr,c_usd,p_pr,2026-09-01,,calendar
s_tax,c_tax,p_tax,2026-09-01,,calendar
""",
    "coupons.csv": """code,coupon_type,amount,percentage_rate,frequency,frequency_duration
ten_off,fixed_amount,10,,once,
""",
    "applied_coupons.csv": """coupon_code,external_customer_id,applied_at
ten_off,c_tax,2026-09-01
""",
    "wallets.csv": """id,external_customer_id,currency,rate_amount,priority,expiration_at
w_tax,c_tax,USD,1,1,
""",
    "wallet_transactions.csv": """wallet_id,credits,kind,created_at
w_tax,5,granted,2026-09-01
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
          "--from", "2026-09", "--to", "2026-10")
    return warehouse


def rows(warehouse: Path, sql: str, params=()) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(sql, list(params)).fetchall()


def lines(warehouse: Path, sub: str) -> list[tuple]:
    return rows(warehouse, """select l.invoice_id, l.fee_type, l.units, l.amount
                              from billing.invoice_lines as l
                              inner join billing.invoices as i on l.invoice_id = i.invoice_id
                              where i.external_subscription_id = ? order by 1, 2""", [sub])
