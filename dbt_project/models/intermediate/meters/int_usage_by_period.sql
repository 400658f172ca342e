-- The meters: units and events per billed period, charge, price bucket and pricing group,
-- with Lago's semantics for each aggregation (reference §2):
--   count: events; sum: Σ value; max: largest value (0 if none); latest: last value, negatives 0;
--   unique_count: ids whose last add/remove operation is `add`;
--   weighted_sum: values are deltas of a level, time-weighted over the period.
-- Recurring metrics (sum, unique_count, weighted_sum) see every event since the start of the
-- subscription, so their value carries across periods.
-- Read from the daily meters (int_usage_daily, int_unique_ids_daily), never from events.
with periods as (
    select * from {{ ref('int_billing_periods') }}
    where is_billable
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
        and daily.usage_date <= periods.period_end
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

simple_aggregates as (
    select
        external_subscription_id, period_index, charge_id, filter_index, group_key,
        sum(events_count) as events_count,
        sum(sum_value) as sum_value,
        max(max_value) as max_value
    from windowed
    group by 1, 2, 3, 4, 5
),

latest_values as (
    select external_subscription_id, period_index, charge_id, filter_index, group_key, latest_value
    from (
        select
            *,
            row_number() over (
                partition by external_subscription_id, period_index, charge_id, filter_index, group_key
                order by latest_event_at desc, latest_source_file desc, latest_line_number desc
            ) as recency_rank
        from windowed
        where aggregation_type = 'latest_agg'
    ) as ranked
    where recency_rank = 1
),

-- unique_count: an id counts when its last operation up to the period end is `add`
unique_last_operation as (
    select external_subscription_id, period_index, charge_id, filter_index, group_key, field_value_text,
        last_operation
    from (
        select
            periods.external_subscription_id,
            periods.period_index,
            unique_ids.charge_id,
            unique_ids.filter_index,
            unique_ids.group_key,
            unique_ids.field_value_text,
            unique_ids.last_operation,
            row_number() over (
                partition by periods.external_subscription_id, periods.period_index, unique_ids.charge_id,
                    unique_ids.filter_index, unique_ids.group_key, unique_ids.field_value_text
                order by unique_ids.last_event_at desc, unique_ids.last_source_file desc,
                    unique_ids.last_line_number desc
            ) as recency_rank
        from periods
        inner join unique_ids
            on periods.external_subscription_id = unique_ids.external_subscription_id
            and unique_ids.usage_date <= periods.period_end
        inner join charges
            on unique_ids.charge_id = charges.charge_id
        inner join metrics
            on charges.billable_metric_code = metrics.billable_metric_code
        where metrics.is_recurring or unique_ids.usage_date >= periods.period_start
    ) as ranked
    where recency_rank = 1
),

unique_counts as (
    select external_subscription_id, period_index, charge_id, filter_index, group_key,
        sum(case when last_operation = 'remove' then 0 else 1 end) as unique_value
    from unique_last_operation
    group by 1, 2, 3, 4, 5
),

-- weighted_sum: the level integrated over [from, to): the opening level (recurring: every
-- earlier delta) for the whole period, plus each in-period delta δ at t from t to the period
-- end, Σδ·(to − t) = Σ over days of Σδ·(to − day) − Σδ·(t − day), in exact microseconds
weighted_sums as (
    select
        external_subscription_id, period_index, charge_id, filter_index, group_key,
        max(full_period_days) as charges_duration_days,
        sum(case when is_in_period then 0 else sum_value end)
            * max({{ tally.micros_between('from_at', 'to_at') }})
            + coalesce(sum(case when is_in_period
                then sum_value * {{ tally.micros_between('cast(usage_date as timestamp)', 'to_at') }}
                    - weighted_offset_micros
                end), 0) as level_micros
    from windowed
    where aggregation_type = 'weighted_sum_agg'
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
