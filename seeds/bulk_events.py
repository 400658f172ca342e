"""Lago-shaped usage events in bulk, written by one DuckDB statement (no per-event Python).

Shared by `make bench` (benchmarks/generate.py) and `DEMO_EVENTS=N make demo`
(seeds/generate_demo.py). `write(con, path, subscriptions, n, seed)` writes n events as one
Parquet file, `properties` as JSON text (as Lago exports it), for the subscriptions of the
relation `subscriptions`, which has one row per subscription with the columns
    k             0, 1, ... (consecutive): the subscription's number;
    subscription  its external_id;
    codes         varchar[]: the metric codes it sends, a code repeated to weigh it;
    from_at       timestamp: its events lie in [from_at, from_at + span_us microseconds);
    span_us       bigint.
Each event's subscription, metric, instant and properties come from hashes of its number and
`seed`, so a file is a pure function of its inputs. With `anomalies`, ~0.1 % of rows break a
rule (no code, a bad timestamp, a non-numeric value) and ~0.5 % are identical re-sends.
"""
from __future__ import annotations

from pathlib import Path

import duckdb

# one properties shape per metric code of the demo catalog (seeds/catalog/billable_metrics.csv):
# the fields the metrics aggregate, the charge filters' model/region and a pricing group key
PROPERTIES = """case code
    when 'api_calls' then json_object('region', ['eu', 'us', 'apac'][h % 3 + 1],
                                      'endpoint', '/v1/chat', 'latency_ms', (h % 900) + 20)
    when 'tokens' then json_object('tokens', (h % 5000) + 1,
                                   'model', ['small', 'large', 'medium'][h % 3 + 1],
                                   'region', ['eu', 'us'][h % 2 + 1])
    when 'seats' then json_object('user_id', 'u' || (h % 40),
                                  'operation_type', case when h % 5 = 0 then 'remove' else 'add' end)
    when 'active_users' then json_object('user_id', 'u' || (h % 40),
                                  'operation_type', case when h % 5 = 0 then 'remove' else 'add' end)
    when 'storage_gb' then json_object('gb', cast((h % 200000) / 100.0 as decimal(10, 2)))
    when 'gpus' then json_object('gpus', 1)
    when 'images' then json_object('images', (h % 12) + 1, 'size', '1024x1024')
    when 'llm_requests' then json_object('output_tokens', (h % 3800) + 200, 'model', 'partner-xl')
    when 'partner_model_spend' then json_object('amount', cast((h % 10000) / 100.0 as decimal(10, 2)))
    else json_object('models', h % 6)
end"""
# Lago's precise_total_amount_cents, the price a `dynamic` charge bills, on the pass-through
# metric's events only: its output tokens at 0.0015 cents each (as the demo's, seeds/generate_demo.py)
PRECISE_AMOUNT = """case when code = 'llm_requests'
    then cast(cast(((h % 3800) + 200) * 0.0015 as decimal(18, 4)) as varchar) end"""


def write(con: duckdb.DuckDBPyConnection, path: Path, subscriptions: str, n: int, seed: int,
          anomalies: bool = True) -> None:
    count = con.execute(f"select count(*) from ({subscriptions})").fetchone()[0]
    if count == 0:
        raise ValueError("no subscription to send events for")
    con.execute("set enable_progress_bar = false")
    broken = "i % 3000 = {}" if anomalies else "false and {}"
    con.execute(f"""
    copy (
        with subs as ({subscriptions}),
        base as (
            select i,
                   cast(hash(i, {seed}) >> 2 as bigint) as h,
                   cast(hash(i, {seed}, 'k') % {count} as bigint) as k
            from range({n}) t(i)
        ),
        shaped as (
            select base.i, base.h, base.k, subs.subscription,
                   subs.codes[(base.h >> 20) % len(subs.codes) + 1] as code,
                   subs.from_at + to_microseconds(cast((base.h >> 8) % subs.span_us as bigint)) as ts
            from base
            inner join subs on base.k = subs.k
        ),
        good as (
            select printf('tx_%d_%d', {seed}, i) as transaction_id,
                   cast(null as varchar) as external_customer_id,
                   subscription as external_subscription_id,
                   code, strftime(ts, '%Y-%m-%dT%H:%M:%S.%fZ') as timestamp,
                   cast({PROPERTIES} as varchar) as properties,
                   {PRECISE_AMOUNT} as precise_total_amount_cents, i
            from shaped
        )
        select transaction_id, external_customer_id, external_subscription_id,
               case when {broken.format(7)} then null else code end as code,
               case when {broken.format(1507)} then 'yesterday' else timestamp end as timestamp,
               case when {broken.format(2999)} and code = 'tokens' then '{{"tokens": "many"}}'
                    else properties end as properties,
               precise_total_amount_cents
        from good
        union all
        select transaction_id, external_customer_id, external_subscription_id, code, timestamp, properties,
               precise_total_amount_cents
        from good where {'i % 200 = 3' if anomalies else 'false'}
    ) to '{path}' (format parquet, compression zstd, row_group_size 1000000)
    """)
