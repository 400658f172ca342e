"""Lago-shaped synthetic usage for `make bench`, written by DuckDB SQL (no per-event Python).

`catalog(out, customers)` writes a catalog folder: the demo's metrics, plans, charges, taxes and
fx rates, with `customers` customers, one subscription each, spread over four plans that between
them price every aggregation the bench sends (count, sum with a charge filter, max, latest,
unique count with add/remove, weighted sum, percentage, a pricing group key, usage thresholds).

`events(path, first_day, days, n, seed)` writes n events over `days` days as one Parquet file
with `properties` as JSON text (as Lago exports it), ~0.5 % identical re-sends of earlier
transaction ids and ~0.1 % bad rows (missing code, bad timestamp, non-numeric value).
"""
from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import duckdb

from orchestration.paths import DEFAULT_CATALOG

# plan of customer k = PLANS[k % len(PLANS)]
PLANS = ["pro_usd", "growth_eur", "starter_usd", "scale_usd"]
TIMEZONES = ["UTC", "America/New_York", "Europe/Paris", "Asia/Tokyo"]
COPIED = ["billable_metrics.csv", "plans.csv", "charges.csv", "taxes.csv", "fx_rates.csv",
          "usage_thresholds.csv"]
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


def events(path: Path, first_day: date, days: int, n: int, customers: int, seed: int = 1) -> None:
    """n events in [first_day, first_day + days), deterministic for (n, customers, seed)."""
    plans = "[" + ", ".join(f"'{p}'" for p in PLANS) + "]"
    with duckdb.connect() as con:
        con.execute("set threads = 2")
        con.execute(f"""
        copy (
            with base as (
                select i,
                       cast(hash(i, {seed}) >> 2 as bigint) as h,
                       cast(hash(i, {seed}, 'k') % {customers} as bigint) as k
                from range({n}) t(i)
            ),
            shaped as (
                select i, h, k, {plans}[k % {len(PLANS)} + 1] as plan_code,
                       (h % 1000) as pick,
                       timestamp '{first_day:%Y-%m-%d}' + to_microseconds(
                           cast((h >> 8) % ({days} * 86400000000) as bigint)) as ts
                from base
            ),
            coded as (
                select *,
                    case
                        when plan_code = 'starter_usd' then case when pick < 600 then 'api_calls' else 'tokens' end
                        when plan_code = 'scale_usd' then 'api_calls'
                        when plan_code = 'growth_eur' then case
                            when pick < 450 then 'api_calls' when pick < 850 then 'tokens'
                            when pick < 930 then 'seats' else 'storage_gb' end
                        else case
                            when pick < 350 then 'api_calls' when pick < 700 then 'tokens'
                            when pick < 780 then 'seats' when pick < 850 then 'storage_gb'
                            when pick < 900 then 'gpus' when pick < 960 then 'partner_model_spend'
                            else 'fine_tuned_models' end
                    end as code
                from shaped
            ),
            props as (
                select *,
                    case code
                        when 'api_calls' then json_object('region', ['eu', 'us', 'apac'][h % 3 + 1],
                                                          'endpoint', '/v1/chat', 'latency_ms', (h % 900) + 20)
                        when 'tokens' then json_object('tokens', (h % 5000) + 1,
                                                       'model', ['small', 'large', 'medium'][h % 3 + 1],
                                                       'region', ['eu', 'us'][h % 2 + 1])
                        when 'seats' then json_object('user_id', 'u' || (h % 40),
                                                      'operation_type', case when h % 5 = 0 then 'remove' else 'add' end)
                        when 'storage_gb' then json_object('gb', cast((h % 200000) / 100.0 as decimal(10, 2)))
                        when 'gpus' then json_object('gpus', 1)
                        when 'partner_model_spend' then json_object('amount', cast((h % 10000) / 100.0 as decimal(10, 2)))
                        else json_object('models', h % 6)
                    end as properties
                from coded
            ),
            good as (
                select printf('tx_%d_%d', {seed}, i) as transaction_id,
                       cast(null as varchar) as external_customer_id,
                       printf('bsub_%06d', k) as external_subscription_id,
                       code, strftime(ts, '%Y-%m-%dT%H:%M:%S.%fZ') as timestamp,
                       cast(properties as varchar) as properties, i
                from props
            )
            -- ~0.1 % bad rows, each breaking one rule; ~0.5 % identical re-sends of an earlier event
            select transaction_id, external_customer_id, external_subscription_id,
                   case when i % 3000 = 7 then null else code end as code,
                   case when i % 3000 = 1507 then 'yesterday' else timestamp end as timestamp,
                   case when i % 3000 = 2999 and code = 'tokens' then '{{"tokens": "many"}}' else properties end
                       as properties
            from good
            union all
            select transaction_id, external_customer_id, external_subscription_id, code, timestamp, properties
            from good where i % 200 = 3
        ) to '{path}' (format parquet, compression zstd, row_group_size 1000000)
        """)
