"""The world of tests/e2e/test_pay_in_advance.py: a catalog of pay-in-advance charges and their
events, September 2026 (UTC), one subscription per case."""
from __future__ import annotations

import json
from pathlib import Path


def q(obj: dict) -> str:
    """A JSON cell of charges.csv, CSV-quoted."""
    return '"' + json.dumps(obj).replace('"', '""') + '"'


LAGO_GRADUATED = {"graduated_ranges": [
    {"from_value": 0, "to_value": 5, "per_unit_amount": "0.02", "flat_amount": "0.01"},
    {"from_value": 6, "to_value": None, "per_unit_amount": "0.01", "flat_amount": "0.01"}]}
TOKENS_GRADUATED = {"graduated_ranges": [
    {"from_value": 0, "to_value": 100, "per_unit_amount": "0.02", "flat_amount": "0"},
    {"from_value": 100, "to_value": None, "per_unit_amount": "0.01", "flat_amount": "3"}]}

# id, plan, metric, model, properties, invoiceable, grouping
CHARGES = [
    ("ch_l_count", "calls", "standard", {"amount": "10"}, "false", ""),
    ("ch_l_uc", "uids", "standard", {"amount": "12"}, "false", ""),
    ("ch_l_sum", "amount", "standard", {"amount": "1"}, "true", ""),
    ("ch_l_pkg", "amount", "package", {"amount": "100", "free_units": 3, "package_size": 2}, "false", ""),
    ("ch_l_grad", "amount", "graduated", LAGO_GRADUATED, "false", ""),
    ("ch_l_pct_ev", "amount", "percentage", {"rate": "5", "fixed_amount": "1", "free_units_per_events": 2,
                                             "free_units_per_total_aggregation": "120.0"}, "false", ""),
    ("ch_l_pct_tot", "amount", "percentage", {"rate": "5", "fixed_amount": "1", "free_units_per_events": 1,
                                              "free_units_per_total_aggregation": "120.0"}, "false", ""),
    ("ch_l_pct_mm", "amount", "percentage", {"rate": "1", "fixed_amount": "0.5", "per_transaction_max_amount": "2",
                                             "per_transaction_min_amount": "1.75"}, "false", ""),
    ("ch_l_pct_t3", "amount", "percentage", {"rate": "5", "fixed_amount": "1",
                                             "free_units_per_total_aggregation": "3.0"}, "false", ""),
    ("ch_grad", "tokens", "graduated", TOKENS_GRADUATED, "", ""),
    ("ch_pct", "amount", "percentage", {"rate": "2", "fixed_amount": "0.10", "free_units_per_events": 2,
                                        "per_transaction_min_amount": "0.50",
                                        "per_transaction_max_amount": "5"}, "", ""),
    ("ch_pkg", "calls", "package", {"amount": "10", "package_size": 3, "free_units": 1}, "", ""),
    ("ch_day", "calls", "standard", {"amount": "1"}, "", "day"),
    ("ch_commit", "calls", "standard", {"amount": "10"}, "true", "event"),
    # recurring metrics in advance: a prorated seat, and a sum carried into October
    ("ch_seat", "seats", "standard", {"amount": "10"}, "", ""),
    ("ch_rsum", "storage", "standard", {"amount": "1"}, "false", ""),
]
PRORATED = {"ch_seat": "true"}
SUBSCRIBER = {"ch_grad": "c_tax"}
COMMITMENT = {"ch_commit": "50"}

CATALOG = {
    "customers.csv": "external_id,name,currency,timezone,tax_codes\nc1,One,USD,UTC,\nc_tax,Taxed,USD,UTC,vat10\n",
    "taxes.csv": "code,name,rate,applied_by_default\nvat10,VAT,10,false\n",
    "coupons.csv": ("code,coupon_type,amount,percentage_rate,frequency,frequency_duration\n"
                    "welcome,fixed_amount,1.00,,once,\n"),
    "wallets.csv": "id,external_customer_id,currency,rate_amount,priority,expiration_at\nw1,c1,USD,1,50,\n",
    "wallet_transactions.csv": "wallet_id,credits,kind,created_at\nw1,15,granted,2026-09-01\n",
    "applied_coupons.csv": "coupon_code,external_customer_id,applied_at\nwelcome,c_tax,2026-09-01\n",
    "billable_metrics.csv": ("code,name,aggregation_type,field_name,recurring,rounding_function,rounding_precision,"
                             "filters\ncalls,Calls,count_agg,,false,,,\namount,Amount,sum_agg,amount,false,,,\n"
                             "uids,Ids,unique_count_agg,unique_id,false,,,\ntokens,Tokens,sum_agg,tokens,false,,,\n"
                             "seats,Seats,unique_count_agg,user_id,true,,,\nstorage,Storage,sum_agg,gb,true,,,\n"),
    "plans.csv": "code,name,interval,amount,currency,pay_in_advance,trial_period,minimum_commitment\n" + "".join(
        f"p_{c[0][3:]},{c[0]},monthly,0,USD,false,0,{COMMITMENT.get(c[0], '')}\n" for c in CHARGES),
    "charges.csv": ("id,plan_code,billable_metric_code,charge_model,properties,pay_in_advance,min_amount,"
                    "invoice_display_name,filters,invoiceable,instant_invoice_grouping,prorated\n") + "".join(
        f"{c[0]},p_{c[0][3:]},{c[1]},{c[2]},{q(c[3])},true,,,,{c[4]},{c[5]},{PRORATED.get(c[0], '')}\n"
        for c in CHARGES),
    "subscriptions.csv": "external_id,external_customer_id,plan_code,started_at,ending_at,billing_time\n" + "".join(
        f"s_{c[0][3:]},{SUBSCRIBER.get(c[0], 'c1')},p_{c[0][3:]},2026-09-01,,calendar\n" for c in CHARGES),
}

# (subscription, metric, day of September and hour, properties)
EVENTS = [
    ("s_l_count", "calls", "15T10", {}), ("s_l_count", "calls", "17T10", {}),
    ("s_l_uc", "uids", "15T10", {"unique_id": "id_1"}),
    ("s_l_uc", "uids", "16T10", {"unique_id": "id_1", "operation_type": "remove"}),
    ("s_l_uc", "uids", "17T10", {"unique_id": "id_1"}),
    ("s_l_uc", "uids", "18T10", {"unique_id": "id_2"}),
    ("s_l_uc", "uids", "19T10", {"unique_id": "id_2"}),
    ("s_l_uc", "uids", "20T10", {"unique_id": "id_3"}),
    ("s_l_uc", "uids", "21T10", {"unique_id": "id_3", "operation_type": "remove"}),
    ("s_l_sum", "amount", "15T10", {"amount": "10"}), ("s_l_sum", "amount", "17T10", {"amount": "-4"}),
    ("s_l_sum", "amount", "18T10", {"amount": "8"}),
    ("s_l_pkg", "amount", "15T10", {"amount": "3"}), ("s_l_pkg", "amount", "17T10", {"amount": "1"}),
    ("s_l_pkg", "amount", "18T10", {"amount": "2"}),
    ("s_l_grad", "amount", "15T10", {"amount": "3"}), ("s_l_grad", "amount", "17T10", {"amount": "1"}),
    ("s_l_grad", "amount", "18T10", {"amount": "2"}),
    ("s_l_pct_ev", "amount", "14T10", {"amount": "8"}), ("s_l_pct_ev", "amount", "15T10", {"amount": "5"}),
    ("s_l_pct_ev", "amount", "16T10", {"amount": "3"}),
    ("s_l_pct_tot", "amount", "14T10", {"amount": "2"}), ("s_l_pct_tot", "amount", "15T10", {"amount": "1"}),
    ("s_l_pct_mm", "amount", "14T10", {"amount": "100"}), ("s_l_pct_mm", "amount", "15T10", {"amount": "1000"}),
    ("s_l_pct_mm", "amount", "16T10", {"amount": "10000"}),
    ("s_l_pct_t3", "amount", "15T10", {"amount": "5"}), ("s_l_pct_t3", "amount", "17T10", {"amount": "1"}),
    ("s_grad", "tokens", "05T10", {"tokens": 60}), ("s_grad", "tokens", "06T10", {"tokens": 70}),
    ("s_grad", "tokens", "07T10", {"tokens": 50}),
    ("s_pct", "amount", "10T01", {"amount": "100"}), ("s_pct", "amount", "10T02", {"amount": "50"}),
    ("s_pct", "amount", "10T03", {"amount": "10"}), ("s_pct", "amount", "10T04", {"amount": "1000"}),
    ("s_pct", "amount", "10T05", {"amount": "30"}),
] + [("s_pkg", "calls", f"12T0{i}", {}) for i in range(1, 6)] + [
    ("s_day", "calls", "10T08", {}), ("s_day", "calls", "10T09", {}), ("s_day", "calls", "11T08", {}),
] + [("s_commit", "calls", f"20T0{i}", {}) for i in range(1, 4)] + [
    ("s_seat", "seats", "15T10", {"user_id": "u1"}), ("s_seat", "seats", "22T10", {"user_id": "u2"}),
    ("s_seat", "seats", "25T10", {"user_id": "u1", "operation_type": "remove"}),
    ("s_seat", "seats", "28T10", {"user_id": "u3"}),
    ("s_rsum", "storage", "10T10", {"gb": "5"}), ("s_rsum", "storage", "12T10", {"gb": "-2"}),
    ("s_rsum", "storage", "14T10", {"gb": "3"}),
]


def write_world(root: Path) -> tuple[Path, Path]:
    catalog, landing = root / "catalog", root / "landing"
    catalog.mkdir(parents=True)
    landing.mkdir(parents=True)
    for name, text in CATALOG.items():
        (catalog / name).write_text(text)
    lines = [json.dumps({"transaction_id": f"t{i}", "external_subscription_id": sub, "code": code,
                         "timestamp": f"2026-09-{at}:00:00Z", "properties": props})
             for i, (sub, code, at, props) in enumerate(EVENTS)]
    (landing / "events.jsonl").write_text("\n".join(lines) + "\n")
    return catalog, landing
