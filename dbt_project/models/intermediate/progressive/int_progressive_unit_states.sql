-- Progressive billing, the screen's bucket states with their units: every state of a price
-- bucket of a followed period, as int_usage_by_period would meter the bucket if the period
-- ended there (int_progressive_priced_states prices them).
--   - a start state (is_start) per bucket that exists at the period start: a recurring bucket
--     with units carried from earlier periods (at its last carried event), or, for a charge
--     filter with nothing carried, its default bucket (group_key '', is_default_start) at 0
--     units: a graduated first-tier flat, a volume first-range flat. The default bucket goes
--     away at the filter's first event (int_usage_by_period's grid keeps it only for a filter
--     without events);
--   - charges not screened (int_progressive_charges): a state after each event, in linear
--     time: each aggregation's running form (macros/aggregations) gives the running units after
--     each event and before it;
--   - screened charges: one day state (is_day_state) per bucket and UTC day, after the bucket's
--     last event of the day. Their amount only rises within a day, so the day's closing amount
--     bounds it; the days where a threshold can be crossed are replayed event by event
--     (int_progressive_replay_days, int_progressive_replayed_states) from the day's opening
--     meters, kept on the day state (count_before, sum_before, max_before).
-- ordinal: the rank in its bucket and period of the state's event, carried events included (0
-- for a default start); events_count as int_usage_by_period (carried events included); units
-- after the state and before it (the bucket's previous state's; null at its first), metric
-- rounding applied. Incremental by period (macros/incremental/periods_to_rate.sql).
-- depends_on: {{ ref('int_usage_daily') }}, {{ ref('int_unique_ids_daily') }}, {{ ref('int_billing_periods') }}
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    pre_hook="{{ tally.delete_periods_to_rate() }}",
    post_hook="{{ tally.save_rated_periods() }}",
) }}
{%- set bucket = tally.progressive_bucket() -%}
{%- set identity = tally.progressive_identity() ~ ', aggregation_type' -%}
with events as (
    {{ tally.rows_to_rate(ref('int_progressive_events')) }}
),

periods as (
    {{ tally.rows_to_rate(ref('int_progressive_periods')) }}
),

charges as (
    select * from {{ ref('int_progressive_charges') }}
),

buckets as (
    select * from {{ ref('stg_charge_buckets') }}
),

-- (period, charge, filter)s with carried events: they have no default start
carried_filters as (
    select distinct external_subscription_id, period_index, charge_id, filter_index
    from events
    where not is_in_period
),

-- screened charges' carried events (recurring metrics), per bucket: counted in the ordinal,
-- and the start state of an aggregation that carries its units
carried_meters as (
    select
        {{ identity }},
        count(*) as events_count,
        sum(event_value) as sum_value,
        max(event_value) as max_value,
        max(event_at) as event_at
    from events
    where is_screened and not is_in_period
    group by {{ identity }}
),

-- screened charges, per bucket and UTC day of the period: the day's events, and the meters
-- before the day (carried events included)
day_meters as (
    select
        *,
        coalesce(carried_count, 0) + coalesce(sum(day_count) over (
            partition by {{ bucket }} order by event_day
            rows between unbounded preceding and 1 preceding
        ), 0) as count_before,
        coalesce(carried_sum, 0) + coalesce(sum(day_sum) over (
            partition by {{ bucket }} order by event_day
            rows between unbounded preceding and 1 preceding
        ), 0) as sum_before,
        greatest(carried_max, max(day_max) over (
            partition by {{ bucket }} order by event_day
            rows between unbounded preceding and 1 preceding
        )) as max_before
    from (
        select
            days.*,
            carried.events_count as carried_count,
            carried.sum_value as carried_sum,
            carried.max_value as carried_max
        from (
            select
                {{ identity }}, event_day,
                count(*) as day_count,
                sum(event_value) as day_sum,
                max(event_value) as day_max,
                max(event_at) as last_event_at
            from events
            where is_screened and is_in_period
            group by {{ identity }}, event_day
        ) as days
        left join carried_meters as carried
            on days.external_subscription_id = carried.external_subscription_id
            and days.period_index = carried.period_index
            and days.charge_id = carried.charge_id
            and days.filter_index = carried.filter_index
            and days.group_key = carried.group_key
    ) as joined
),

-- charges not screened, event by event: running units after (units_after) and before
-- (units_before, null for a bucket's first event) each event, one window pass per
-- aggregation (its running form); carried = the bucket's carried events
running as (
    {{ tally.aggregate_running('events', bucket, tally.progressive_event_order(),
        identity ~ ', event_at, source_file, line_number, file_checksum, event_value, is_in_period') }}
),

{%- set no_event = "cast(null as " ~ dbt.type_string() ~ ") as source_file, cast(null as bigint) as line_number, cast(null as "
    ~ dbt.type_string() ~ ") as file_checksum, " ~ tally.to_num('null') ~ " as event_value" %}
{%- set no_meters = "cast(null as bigint) as count_before, " ~ tally.to_num('null') ~ " as sum_before, "
    ~ tally.to_num('null') ~ " as max_before" %}

-- after each event of the charges not screened; a carried bucket's start at its last carried event
event_states as (
    select
        {{ identity }}, ordinal,
        not is_in_period as is_start,
        false as is_default_start,
        false as is_day_state,
        cast(null as date) as event_day,
        event_at, source_file, line_number, file_checksum, event_value,
        cast(ordinal as bigint) as events_count,
        {{ tally.apply_unit_rounding('units_after', 'rounding_function', 'rounding_precision') }} as units,
        {{ tally.apply_unit_rounding('units_before', 'rounding_function', 'rounding_precision') }} as units_before,
        {{ no_meters }}
    from running
    where is_in_period or ordinal = carried
),

-- the carried start of a screened recurring metric
carried_starts as (
    select
        {{ identity }},
        cast(events_count as bigint) as ordinal,
        true as is_start,
        false as is_default_start,
        false as is_day_state,
        cast(null as date) as event_day,
        event_at, {{ no_event }},
        cast(events_count as bigint) as events_count,
        {{ tally.apply_unit_rounding(tally.screened_units('events_count', 'coalesce(sum_value, 0)', 'max_value'),
            'rounding_function', 'rounding_precision') }} as units,
        {{ tally.to_num('null') }} as units_before,
        {{ no_meters }}
    from carried_meters
    where {{ tally.is_aggregation('aggregation_type', 'recurring') }}
),

-- the default bucket of each charge filter with nothing carried
default_starts as (
    select
        periods.external_subscription_id, periods.period_index, charges.charge_id, buckets.filter_index,
        '' as group_key, charges.charge_model, charges.rounding_function, charges.rounding_precision,
        charges.aggregation_type,
        cast(0 as bigint) as ordinal,
        true as is_start,
        true as is_default_start,
        false as is_day_state,
        cast(null as date) as event_day,
        cast(null as timestamp) as event_at, {{ no_event }},
        cast(0 as bigint) as events_count,
        {{ tally.to_num('0') }} as units,
        {{ tally.to_num('null') }} as units_before,
        {{ no_meters }}
    from periods
    inner join charges
        on periods.plan_code = charges.plan_code
    inner join buckets
        on charges.charge_id = buckets.charge_id
    left join carried_filters
        on periods.external_subscription_id = carried_filters.external_subscription_id
        and periods.period_index = carried_filters.period_index
        and charges.charge_id = carried_filters.charge_id
        and buckets.filter_index = carried_filters.filter_index
    where carried_filters.charge_id is null
),

-- a screened bucket's day: after its last event of the day, and at its previous state
day_states as (
    select
        {{ identity }}, ordinal,
        false as is_start,
        false as is_default_start,
        true as is_day_state,
        event_day, event_at, {{ no_event }},
        ordinal as events_count,
        {{ tally.apply_unit_rounding('units_after', 'rounding_function', 'rounding_precision') }} as units,
        {{ tally.apply_unit_rounding('units_before', 'rounding_function', 'rounding_precision') }} as units_before,
        count_before, sum_before, max_before
    from (
        select
            {{ identity }}, event_day,
            cast(count_before + day_count as bigint) as ordinal,
            last_event_at as event_at,
            {{ tally.screened_units('count_before + day_count', 'sum_before + coalesce(day_sum, 0)', 'greatest(max_before, day_max)') }}
                as units_after,
            case when count_before > 0 then
                {{ tally.screened_units('count_before', 'sum_before', 'max_before') }}
            end as units_before,
            cast(count_before as bigint) as count_before,
            sum_before,
            max_before
        from day_meters
    ) as closing
),

final as (
    select * from event_states
    union all
    select * from carried_starts
    union all
    select * from default_starts
    union all
    select * from day_states
)

select * from final
