{#- The rating watermark: the highest load_sequence the daily meters (int_usage_daily) have
    rated, 0 before their first build. Every daily-state model reads it before int_usage_daily
    is rebuilt (they run first: int_usage_daily depends on them), so a batch is seen by all of
    them, whether or not it leaves rows in each. -#}
{% macro rating_watermark() -%}
{%- set daily = adapter.get_relation(database=this.database, schema=this.schema, identifier='int_usage_daily') -%}
{%- if daily is not none and is_incremental() -%}
(select coalesce(max(max_load_sequence), 0) from {{ daily }})
{%- else -%}
0
{%- endif -%}
{%- endmacro %}

{#- The events a daily-state model must (re)aggregate, as the CTE `events_to_rate`: on a first
    build every event of `source`; after that all the events of the (subscription, local day)
    pairs that newly landed events (load_sequence above the watermark) touch, read from a
    bounded time range, so each touched day is recomputed whole and history is never rescanned.
    A catalog change drops the models first (orchestration/rating_state.py). -#}
{% macro events_to_rate(source) -%}
{%- if is_incremental() %}
new_events as (
    select external_subscription_id, usage_date, event_at
    from {{ source }}
    where load_sequence > {{ tally.rating_watermark() }}
),

touched as (
    select distinct external_subscription_id, usage_date
    from new_events
),

-- a local day lies within a day and a half of its UTC date: two days either side is enough
touched_range as (
    select
        {{ dbt.dateadd('day', -2, 'min(event_at)') }} as from_at,
        {{ dbt.dateadd('day', 2, 'max(event_at)') }} as to_at
    from new_events
),

events_to_rate as (
    select source_events.*
    from {{ source }} as source_events
    inner join touched
        on source_events.external_subscription_id = touched.external_subscription_id
        and source_events.usage_date = touched.usage_date
    where source_events.event_at >= (select from_at from touched_range)
        and source_events.event_at <= (select to_at from touched_range)
)
{%- else %}
events_to_rate as (
    select * from {{ source }}
)
{%- endif %}
{%- endmacro %}
