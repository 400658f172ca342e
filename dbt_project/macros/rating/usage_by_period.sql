{#- The meters of the periods `periods_sql` selects (rows of int_billing_periods): units and
    events per period, charge, price bucket and pricing group, from the daily meters. One body
    for the billed periods (int_usage_by_period) and the open ones (int_current_usage_by_period),
    so that usage so far is metered exactly as the invoice closing the period will meter it.
    `prorated_steps`: the prorated steps of the same periods. -#}
{% macro usage_by_period(periods_sql, prorated_steps) -%}
with periods as (
    {{ periods_sql }}
),

daily as (
    select * from {{ ref('int_usage_daily') }}
),

unique_ids as (
    select * from {{ ref('int_unique_ids_daily') }}
),

charges as (
    select * from {{ ref('stg_charges') }}
),

buckets as (
    select * from {{ ref('stg_charge_buckets') }}
),

metrics as (
    select * from {{ ref('stg_billable_metrics') }}
),

-- the daily meters each period sees: its own days, and for a recurring metric every earlier
-- day too (carried). Local days and periods share the customer's timezone, so a day is in a
-- period exactly when its events are.
windowed as (
    select
        periods.external_subscription_id,
        periods.period_index,
        periods.from_at,
        periods.to_at,
        -- Lago divides a weighted sum by charges_duration: the FULL period's days, even when
        -- the subscription starts or ends within it (Subscriptions::DatesService)
        periods.full_period_days,
        daily.charge_id,
        daily.filter_index,
        daily.group_key,
        daily.aggregation_type,
        daily.usage_date,
        daily.events_count,
        daily.sum_value,
        daily.max_value,
        daily.latest_value,
        daily.latest_event_at,
        daily.latest_source_file,
        daily.latest_line_number,
        daily.weighted_offset_micros,
        daily.usage_date >= periods.period_start as is_in_period
    from periods
    inner join daily
        on periods.external_subscription_id = daily.external_subscription_id
        and periods.period_end >= daily.usage_date
    inner join metrics
        on daily.billable_metric_code = metrics.billable_metric_code
    where metrics.is_recurring or daily.usage_date >= periods.period_start
),

base_grid as (
    select
        periods.external_subscription_id,
        periods.period_index,
        charges.charge_id,
        buckets.filter_index,
        '' as group_key
    from periods
    inner join charges
        on periods.plan_code = charges.plan_code
    inner join buckets
        on charges.charge_id = buckets.charge_id
),

event_groups as (
    select distinct external_subscription_id, period_index, charge_id, filter_index, group_key
    from windowed
),

grid as (
    select * from event_groups
    union all
    select base_grid.*
    from base_grid
    left join (select distinct external_subscription_id, period_index, charge_id, filter_index from event_groups) as used
        on base_grid.external_subscription_id = used.external_subscription_id
        and base_grid.period_index = used.period_index
        and base_grid.charge_id = used.charge_id
        and base_grid.filter_index = used.filter_index
    where used.charge_id is null
),

-- the events each bucket counts: a recurring sum or unique count counts its carried events
-- too (Lago's store drops the period's lower bound for them), a recurring weighted sum only
-- the period's (its store keeps the bound; only its level is carried)
event_counts as (
    select external_subscription_id, period_index, charge_id, filter_index, group_key,
        sum(events_count) as events_count
    from windowed
    where is_in_period or {{ tally.is_aggregation('aggregation_type', 'carries_count') }}
    group by 1, 2, 3, 4, 5
),

-- the ids each period sees, with their last operation up to the period end (for the
-- aggregations that keep ids)
unique_last_operation as (
    select
        periods.external_subscription_id,
        periods.period_index,
        unique_ids.charge_id,
        unique_ids.filter_index,
        unique_ids.group_key,
        metrics.aggregation_type,
        unique_ids.field_value_text,
        {{ tally.value_at_max('unique_ids.last_operation',
            ['unique_ids.last_event_at', 'unique_ids.last_source_file', 'unique_ids.last_line_number']) }}
            as last_operation
    from periods
    inner join unique_ids
        on periods.external_subscription_id = unique_ids.external_subscription_id
        and periods.period_end >= unique_ids.usage_date
    inner join charges
        on unique_ids.charge_id = charges.charge_id
    inner join metrics
        on charges.billable_metric_code = metrics.billable_metric_code
    where metrics.is_recurring or unique_ids.usage_date >= periods.period_start
    group by 1, 2, 3, 4, 5, 6, 7
),

-- prorated charges: the sum of their steps' prorated units, ceiled to 5 decimals as Lago
-- (prorated_aggregations/*_service.rb `.ceil(5)`)
prorated as (
    select external_subscription_id, period_index, charge_id, filter_index, group_key,
        {{ tally.to_num('ceil(sum(prorated_units) * 100000) * 0.00001') }} as prorated_units
    from {{ prorated_steps }}
    group by 1, 2, 3, 4, 5
),

-- every registered aggregation (macros/aggregations/_registry.sql), each from its own rows
aggregated as (
    {{ tally.aggregate_periods('windowed', 'unique_last_operation') }}
),

measured as (
    select
        grid.*,
        periods.external_customer_id,
        periods.plan_code,
        periods.currency,
        periods.period_start,
        periods.period_end,
        charges.billable_metric_code,
        charges.charge_model,
        metrics.aggregation_type,
        metrics.rounding_function,
        metrics.rounding_precision,
        coalesce(event_counts.events_count, 0) as events_count,
        coalesce(charges.is_prorated, false) as is_prorated,
        {{ tally.to_num('coalesce(prorated.prorated_units, 0)') }} as prorated_units,
        {{ tally.to_num('coalesce(aggregated.units, 0)') }} as raw_units
    from grid
    inner join periods
        on grid.external_subscription_id = periods.external_subscription_id
        and grid.period_index = periods.period_index
    inner join charges
        on grid.charge_id = charges.charge_id
    inner join metrics
        on charges.billable_metric_code = metrics.billable_metric_code
    left join event_counts
        on {{ tally.grain_join('grid', 'event_counts') }}
    left join aggregated
        on {{ tally.grain_join('grid', 'aggregated') }}
    left join prorated
        on {{ tally.grain_join('grid', 'prorated') }}
),

rounded as (
    select
        measured.*,
        {{ tally.apply_unit_rounding('raw_units', 'rounding_function', 'rounding_precision') }} as metered_units
    from measured
),

final as (
    select
        external_subscription_id,
        period_index,
        charge_id,
        filter_index,
        group_key,
        external_customer_id,
        plan_code,
        currency,
        period_start,
        period_end,
        billable_metric_code,
        charge_model,
        aggregation_type,
        events_count,
        -- what the charge model prices: a prorated charge's prorated units (Lago's aggregation),
        -- any other charge's metered units
        {{ tally.to_num('case when is_prorated then prorated_units else metered_units end') }} as units,
        -- the units without proration (Lago full_units_number): volume picks its range by them
        metered_units as full_units,
        is_prorated
    from rounded
)

select * from final
{%- endmacro %}
