"""A catalog using a charge model or an aggregation that is not in its registry is refused by
name (tests/e2e/test_extend_pricing.py registers both in a copy of the project and bills them)."""
from __future__ import annotations

import json
from pathlib import Path

CATALOG = {
    "billable_metrics.csv": "code,name,aggregation_type,field_name,recurring,rounding_function,"
                            "rounding_precision,filters\napi_calls,API calls,count_agg,,false,,,\n"
                            "active_days,Active days,active_days_agg,,false,,,\n",
    "plans.csv": "code,name,interval,amount,currency,pay_in_advance,trial_period,minimum_commitment\n"
                 "pack_usd,Packs,monthly,20.00,USD,false,0,\n",
    "charges.csv": "id,plan_code,billable_metric_code,charge_model,properties,pay_in_advance,min_amount,"
                   "invoice_display_name,filters\n"
                   "c_packs,pack_usd,api_calls,package_floor,\"" + json.dumps(
                       {"amount": "5.00", "package_size": 100, "free_units": None}).replace('"', '""')
                   + "\",false,,Call packs,\n"
                   "c_packs_eu,pack_usd,api_calls,package_floor,\"" + json.dumps(
                       {"amount": "5.00", "package_size": 100, "free_units": 150}).replace('"', '""')
                   + "\",false,,EU call packs,\n"
                   "c_days,pack_usd,active_days,standard,\"" + json.dumps({"amount": "1.00"}).replace('"', '""')
                   + "\",false,,Active days,\n",
    "customers.csv": "external_id,name,currency,timezone,tax_codes\n"
                     + "".join(f"cus_{c},{c.upper()},USD,UTC,\n" for c in "abcd"),
    "subscriptions.csv": "external_id,external_customer_id,plan_code,started_at,ending_at,billing_time\n"
                         + "".join(f"sub_{c},cus_{c},pack_usd,2026-10-01,,calendar\n" for c in "abcd"),
}


def test_an_unregistered_charge_model_or_aggregation_is_refused_by_name(tmp_path: Path):
    from orchestration import aggregations, charge_models
    from orchestration import catalog as catalog_loader

    for name, text in CATALOG.items():
        (tmp_path / name).write_text(text)
    for name in ("taxes.csv",):
        (tmp_path / name).write_text("code,name,rate,applied_by_default\n")
    try:
        catalog_loader.validate(tmp_path)
    except catalog_loader.CatalogError as exc:
        message = str(exc)
    else:
        raise AssertionError("a catalog using an unregistered charge model was accepted")
    assert (f"charges.csv row 2: charge_model 'package_floor' is unknown (rule: one of "
            f"{sorted(charge_models.registry())})") in message
    assert (f"billable_metrics.csv row 3: aggregation_type 'active_days_agg' is unknown (rule: one of "
            f"{sorted(aggregations.registry())})") in message
