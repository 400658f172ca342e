-- Progressive billing: the screened buckets' states on the replayed days
-- (int_progressive_replay_days), one after each event, priced. Each starts from the day's
-- opening meters (on the bucket's day state, int_progressive_unit_states): the units after an
-- event and before it (the previous event's, or the day's opening units for the day's first)
-- from the running count, sum and max, by aggregation (screened_units). The day's last state
-- of a bucket is its day state again. Incremental by period
-- (macros/incremental/periods_to_rate.sql).
-- depends_on: {{ ref('int_usage_daily') }}, {{ ref('int_unique_ids_daily') }}, {{ ref('int_billing_periods') }}
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    pre_hook="{{ tally.delete_periods_to_rate() }}",
    post_hook="{{ tally.save_rated_periods() }}",
) }}
{%- set bucket = tally.progressive_bucket() -%}
{%- set day_bucket = 'day_states.' ~ (bucket | replace(', ', ', day_states.')) ~ ', day_states.event_day' -%}
{%- set event_order = 'events.' ~ (tally.progressive_event_order() | replace(', ', ', events.')) -%}
with replay_days as (
    {{ tally.rows_to_rate(ref('int_progressive_replay_days')) }}
),

unit_states as (
    {{ tally.rows_to_rate(ref('int_progressive_unit_states')) }}
),

events as (
    {{ tally.rows_to_rate(ref('int_progressive_events')) }}
),

periods as (
    {{ tally.rows_to_rate(ref('int_progressive_periods')) }}
),

buckets as (
    select * from {{ ref('stg_charge_buckets') }}
),

-- a replayed day's events of each screened bucket, with the bucket's running count, sum and
-- max within the day
replayed_events as (
    select
        day_states.external_subscription_id, day_states.period_index, day_states.charge_id,
        day_states.filter_index, day_states.group_key, day_states.charge_model,
        day_states.rounding_function, day_states.rounding_precision, day_states.aggregation_type,
        day_states.event_day,
        day_states.count_before + row_number() over (
            partition by {{ day_bucket }} order by {{ event_order }}
        ) as ordinal,
        day_states.sum_before,
        day_states.max_before,
        events.event_at, events.source_file, events.line_number, events.file_checksum, events.event_value,
        sum(events.event_value) over (
            partition by {{ day_bucket }} order by {{ event_order }}
            rows between unbounded preceding and current row
        ) as running_sum,
        max(events.event_value) over (
            partition by {{ day_bucket }} order by {{ event_order }}
            rows between unbounded preceding and current row
        ) as running_max,
        max(events.event_value) over (
            partition by {{ day_bucket }} order by {{ event_order }}
            rows between unbounded preceding and 1 preceding
        ) as previous_max
    from replay_days
    inner join unit_states as day_states
        on replay_days.external_subscription_id = day_states.external_subscription_id
        and replay_days.period_index = day_states.period_index
        and replay_days.event_day = day_states.event_day
        and day_states.is_day_state
    inner join events
        on day_states.external_subscription_id = events.external_subscription_id
        and day_states.period_index = events.period_index
        and day_states.charge_id = events.charge_id
        and day_states.filter_index = events.filter_index
        and day_states.group_key = events.group_key
        and day_states.event_day = events.event_day
        and events.is_in_period
),

replayed_units as (
    select
        external_subscription_id, period_index, charge_id, filter_index, group_key, charge_model,
        ordinal,
        false as is_start,
        false as is_default_start,
        false as is_day_state,
        event_day, event_at, source_file, line_number, file_checksum,
        cast(ordinal as bigint) as events_count,
        {{ tally.apply_unit_rounding('units_after', 'rounding_function', 'rounding_precision') }} as units,
        {{ tally.apply_unit_rounding('units_before', 'rounding_function', 'rounding_precision') }} as units_before
    from (
        select
            *,
            {{ tally.screened_units('ordinal', 'sum_before + coalesce(running_sum, 0)', 'greatest(max_before, running_max)') }}
                as units_after,
            case when ordinal > 1 then
                {{ tally.screened_units('ordinal - 1', 'sum_before + coalesce(running_sum, 0) - coalesce(event_value, 0)',
                    'greatest(max_before, previous_max)') }}
            end as units_before
        from replayed_events
    ) as running
),

{{ tally.progressive_prices('replayed_units') }},

final as (
    {{ tally.progressive_priced_states('replayed_units') }}
)

select * from final
