{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key=['external_subscription_id', 'usage_date'],
) }}
-- The daily meters: per subscription, charge, price bucket, pricing group and local day
-- (customer timezone), what every aggregation needs to be summed up over any billing period
-- (int_usage_by_period) without reading events again:
--   count, sum, max; the latest value with its order key (event_at, file, line);
--   weighted sum: the day's level change Σδ and Σδ·(t − day) in microseconds, so that a period
--     [from, to) integrates Σ over days of Σδ·(to − day) − Σδ·(t − day) = Σδ·(to − t), exactly;
--   distinct values (billing.usage).
-- Unique counts keep their ids (int_unique_ids_daily). Incremental: only the days that new
-- events touch are recomputed (macros/incremental/events_to_rate.sql).
-- depends_on: {{ ref('int_unique_ids_daily') }}
-- depends_on: {{ ref('int_events_unresolved') }}
{%- set latest = ['event_at', 'source_file', 'line_number'] %}
with {{ tally.events_to_rate(ref('int_charge_events')) }},

final as (
    select
        external_subscription_id,
        usage_date,
        charge_id,
        filter_index,
        group_key,
        max(external_customer_id) as external_customer_id,
        max(billable_metric_code) as billable_metric_code,
        max(aggregation_type) as aggregation_type,
        cast(count(*) as bigint) as events_count,
        {{ tally.to_num('sum(event_value)') }} as sum_value,
        {{ tally.to_num('max(event_value)') }} as max_value,
        {{ tally.to_num(tally.value_at_max('event_value', latest)) }} as latest_value,
        max(event_at) as latest_event_at,
        {{ tally.value_at_max('source_file', latest) }} as latest_source_file,
        {{ tally.value_at_max('line_number', latest) }} as latest_line_number,
        sum(case when {{ tally.is_aggregation('aggregation_type', 'weighted') }}
            then event_value * {{ tally.micros_between('cast(usage_date as timestamp)', 'event_at') }} end)
            as weighted_offset_micros,
        cast(count(distinct field_value_text) as bigint) as distinct_values,
        max(load_sequence) as max_load_sequence
    from events_to_rate
    group by 1, 2, 3, 4, 5
)

select * from final
