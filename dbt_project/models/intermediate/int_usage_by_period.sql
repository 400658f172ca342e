-- The meters: units and events per billed period, charge, price bucket and pricing group,
-- with Lago's semantics for each aggregation (reference §2):
--   count: events; sum: Σ value; max: largest value (0 if none); latest: last value, negatives 0;
--   unique_count: ids whose last add/remove operation is `add`;
--   weighted_sum: values are deltas of a level, time-weighted over the period.
-- Recurring metrics (sum, unique_count, weighted_sum) see every event since the start of the
-- subscription, so their value carries across periods.
with periods as (
    select * from {{ ref('int_billing_periods') }}
    where is_billable
),

charge_events as (
    select * from {{ ref('int_charge_events') }}
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

windowed as (
    select
        periods.external_subscription_id,
        periods.period_index,
        periods.from_at,
        periods.to_at,
        -- Lago divides a weighted sum by charges_duration: the FULL period's days, even when
        -- the subscription starts or ends within it (Subscriptions::DatesService)
        periods.full_period_days,
        charge_events.charge_id,
        charge_events.filter_index,
        charge_events.group_key,
        charge_events.aggregation_type,
        charge_events.event_at,
        charge_events.source_file,
        charge_events.line_number,
        charge_events.event_value,
        charge_events.field_value_text,
        charge_events.operation_type,
        charge_events.event_at >= periods.from_at as is_in_period
    from periods
    inner join charge_events
        on periods.external_subscription_id = charge_events.external_subscription_id
        and charge_events.event_at < periods.to_at
        and (charge_events.is_recurring or charge_events.event_at >= periods.from_at)
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

simple_aggregates as (
    select
        external_subscription_id, period_index, charge_id, filter_index, group_key,
        count(*) as events_count,
        sum(event_value) as sum_value,
        max(event_value) as max_value
    from windowed
    group by 1, 2, 3, 4, 5
),

latest_values as (
    select external_subscription_id, period_index, charge_id, filter_index, group_key, event_value as latest_value
    from (
        select
            *,
            row_number() over (
                partition by external_subscription_id, period_index, charge_id, filter_index, group_key
                order by event_at desc, source_file desc, line_number desc
            ) as recency_rank
        from windowed
        where aggregation_type = 'latest_agg'
    ) as ranked
    where recency_rank = 1
),

-- unique_count: an id counts when its last operation up to the period end is `add`
unique_last_operation as (
    select external_subscription_id, period_index, charge_id, filter_index, group_key, field_value_text,
        operation_type as last_operation
    from (
        select
            *,
            row_number() over (
                partition by external_subscription_id, period_index, charge_id, filter_index, group_key,
                    field_value_text
                order by event_at desc, source_file desc, line_number desc
            ) as recency_rank
        from windowed
        where aggregation_type = 'unique_count_agg'
    ) as ranked
    where recency_rank = 1
),

unique_counts as (
    select external_subscription_id, period_index, charge_id, filter_index, group_key,
        sum(case when last_operation = 'remove' then 0 else 1 end) as unique_value
    from unique_last_operation
    group by 1, 2, 3, 4, 5
),

-- weighted_sum: level after each event × time until the next event (or the period end),
-- plus the opening level (recurring: the sum of all earlier deltas) until the first event.
weighted_events as (
    select
        *,
        sum(case when is_in_period then 0 else event_value end) over (
            partition by external_subscription_id, period_index, charge_id, filter_index, group_key
        ) as opening_level,
        sum(case when is_in_period then event_value else 0 end) over (
            partition by external_subscription_id, period_index, charge_id, filter_index, group_key
            order by is_in_period, event_at, source_file, line_number
            rows between unbounded preceding and current row
        ) as in_period_running,
        lead(event_at) over (
            partition by external_subscription_id, period_index, charge_id, filter_index, group_key
            order by is_in_period, event_at, source_file, line_number
        ) as next_event_at,
        min(case when is_in_period then event_at end) over (
            partition by external_subscription_id, period_index, charge_id, filter_index, group_key
        ) as first_in_period_at
    from windowed
    where aggregation_type = 'weighted_sum_agg'
),

weighted_sums as (
    select
        external_subscription_id, period_index, charge_id, filter_index, group_key,
        max(full_period_days) as charges_duration_days,
        max(opening_level) * max({{ tally.micros_between('from_at', 'coalesce(first_in_period_at, to_at)') }})
            + sum(case when is_in_period
                then (opening_level + in_period_running)
                    * {{ tally.micros_between('event_at', 'coalesce(next_event_at, to_at)') }}
                else 0 end) as level_micros
    from weighted_events
    group by 1, 2, 3, 4, 5
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
        coalesce(simple_aggregates.events_count, 0) as events_count,
        {{ tally.to_num("""case metrics.aggregation_type
            when 'count_agg' then coalesce(simple_aggregates.events_count, 0)
            when 'sum_agg' then coalesce(simple_aggregates.sum_value, 0)
            when 'max_agg' then coalesce(simple_aggregates.max_value, 0)
            when 'latest_agg' then case when latest_values.latest_value > 0 then latest_values.latest_value else 0 end
            when 'unique_count_agg' then coalesce(unique_counts.unique_value, 0)
            when 'weighted_sum_agg' then coalesce(""" ~ tally.divide('weighted_sums.level_micros * 0.000001', 'weighted_sums.charges_duration_days * 86400') ~ """, 0)
        end""") }} as raw_units
    from grid
    inner join periods
        on grid.external_subscription_id = periods.external_subscription_id
        and grid.period_index = periods.period_index
    inner join charges
        on grid.charge_id = charges.charge_id
    inner join metrics
        on charges.billable_metric_code = metrics.billable_metric_code
    left join simple_aggregates
        on {{ tally.grain_join('grid', 'simple_aggregates') }}
    left join latest_values
        on {{ tally.grain_join('grid', 'latest_values') }}
    left join unique_counts
        on {{ tally.grain_join('grid', 'unique_counts') }}
    left join weighted_sums
        on {{ tally.grain_join('grid', 'weighted_sums') }}
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
        {{ tally.apply_unit_rounding('raw_units', 'rounding_function', 'rounding_precision') }} as units
    from measured
)

select * from final
