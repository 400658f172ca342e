"""Lago-shaped synthetic usage for `make bench`, written by DuckDB SQL (no per-event Python).

`catalog(out, customers)` writes a catalog folder: the demo's metrics, plans, charges, taxes and
fx rates, add-ons and fixed charges, with `customers` customers, one subscription each, spread
over six plans that between them price every aggregation the bench sends (count, sum with a
charge filter, max, latest, unique count with add/remove, weighted sum, percentage, a pricing
group key, usage thresholds) and every kind of issue 17: seats prorated by active days, images
paid in advance (one invoice per subscription and day), an LLM cost passed through (`dynamic`),
fixed charges (a platform fee in advance, contracted seats in arrears).

`events(path, first_day, days, n, seed)` writes n events over `days` days as one Parquet file
(seeds/bulk_events.py: `properties` as JSON text, as Lago exports it, ~0.5 % identical re-sends
of earlier transaction ids and ~0.1 % bad rows: missing code, bad timestamp, non-numeric value).
"""
from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import duckdb

from orchestration.paths import DEFAULT_CATALOG
from seeds import bulk_events

# plan of customer k = PLANS[k % len(PLANS)]
PLANS = ["pro_usd", "growth_eur", "starter_usd", "scale_usd", "team_seats_usd", "enterprise_seats_usd"]
TIMEZONES = ["UTC", "America/New_York", "Europe/Paris", "Asia/Tokyo"]
COPIED = ["billable_metrics.csv", "plans.csv", "charges.csv", "taxes.csv", "fx_rates.csv",
          "usage_thresholds.csv", "add_ons.csv", "fixed_charges.csv"]
EMPTY = {"wallets.csv": "id,external_customer_id,currency,rate_amount,priority,expiration_at\n",
         "wallet_transactions.csv": "wallet_id,credits,kind,created_at\n",
         "coupons.csv": "code,coupon_type,amount,percentage_rate,frequency,frequency_duration\n",
         "applied_coupons.csv": "coupon_code,external_customer_id,applied_at\n"}


def catalog(out: Path, customers: int) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for name in COPIED:
        shutil.copy(DEFAULT_CATALOG / name, out / name)
    for name, header in EMPTY.items():
        (out / name).write_text(header)
    plans = "[" + ", ".join(f"'{p}'" for p in PLANS) + "]"
    zones = "[" + ", ".join(f"'{z}'" for z in TIMEZONES) + "]"
    with duckdb.connect() as con:
        con.execute(f"""
            create table c as
            select k, printf('bcus_%06d', k) as customer, printf('bsub_%06d', k) as subscription,
                   {plans}[k % {len(PLANS)} + 1] as plan_code, {zones}[k % {len(TIMEZONES)} + 1] as timezone
            from range({customers}) t(k)""")
        con.execute(f"""copy (select customer as external_id, 'Bench customer ' || k as name,
                                     case when plan_code = 'growth_eur' then 'EUR' else 'USD' end as currency,
                                     timezone, '' as tax_codes from c order by k)
                        to '{out}/customers.csv' (header, quote '"')""")
        con.execute(f"""copy (select subscription as external_id, customer as external_customer_id, plan_code,
                                     '2026-01-01' as started_at, '' as ending_at, 'calendar' as billing_time
                              from c order by k)
                        to '{out}/subscriptions.csv' (header, quote '"')""")


# the metrics each plan's subscriptions send, weighted in percent
MIX = {
    "pro_usd": {"api_calls": 35, "tokens": 35, "seats": 8, "storage_gb": 7, "gpus": 5,
                "partner_model_spend": 6, "fine_tuned_models": 4},
    "growth_eur": {"api_calls": 45, "tokens": 40, "seats": 8, "storage_gb": 7},
    "starter_usd": {"api_calls": 60, "tokens": 40},
    "scale_usd": {"api_calls": 100},
    # issue 17: prorated seats, images paid in advance (one invoice a day), LLM cost passed through
    "team_seats_usd": {"active_users": 10, "images": 40, "llm_requests": 50},
    "enterprise_seats_usd": {"api_calls": 70, "llm_requests": 30},
}


def _codes(plan: str) -> str:
    return "[" + ", ".join(f"'{code}'" for code, weight in MIX[plan].items() for _ in range(weight)) + "]"


def events(path: Path, first_day: date, days: int, n: int, customers: int, seed: int = 1) -> None:
    """n events in [first_day, first_day + days), deterministic for (n, customers, seed)."""
    codes = " ".join(f"when {i} then {_codes(plan)}" for i, plan in enumerate(PLANS))
    subscriptions = f"""
        select k, printf('bsub_%06d', k) as subscription, case k % {len(PLANS)} {codes} end as codes,
               timestamp '{first_day:%Y-%m-%d}' as from_at, cast({days} * 86400000000 as bigint) as span_us
        from range({customers}) t(k)"""
    with duckdb.connect() as con:
        con.execute("set threads = 2")
        bulk_events.write(con, path, subscriptions, n, seed)
