{#- The prorated steps of the periods `periods_sql` selects (rows of int_billing_periods): one
    body for the billed periods (int_prorated_steps) and the open ones
    (int_current_prorated_steps). -#}
{% macro prorated_steps(periods_sql) -%}
with charges as (
    select * from {{ ref('stg_charges') }}
    where is_prorated
),

metrics as (
    select * from {{ ref('stg_billable_metrics') }}
),

periods as (
    select periods.*
    from ({{ periods_sql }}) as periods
    where periods.plan_code in (select plan_code from charges)
),

-- a prorated charge's metric is recurring: every day up to the period's end
days as (
    select
        periods.external_subscription_id,
        periods.period_index,
        periods.period_start,
        periods.period_end,
        periods.period_days,
        daily.charge_id,
        daily.filter_index,
        daily.group_key,
        daily.aggregation_type,
        daily.usage_date,
        daily.sum_value,
        daily.usage_date >= periods.period_start as is_in_period
    from periods
    inner join {{ ref('int_usage_daily') }} as daily
        on periods.external_subscription_id = daily.external_subscription_id
        and periods.period_end >= daily.usage_date
    inner join charges
        on daily.charge_id = charges.charge_id
),

ids as (
    select
        periods.external_subscription_id,
        periods.period_index,
        periods.period_start,
        periods.period_end,
        unique_ids.charge_id,
        unique_ids.filter_index,
        unique_ids.group_key,
        metrics.aggregation_type,
        unique_ids.field_value_text,
        unique_ids.usage_date,
        unique_ids.last_operation,
        unique_ids.last_event_at,
        unique_ids.last_source_file,
        unique_ids.last_line_number
    from periods
    inner join {{ ref('int_unique_ids_daily') }} as unique_ids
        on periods.external_subscription_id = unique_ids.external_subscription_id
        and periods.period_end >= unique_ids.usage_date
    inner join charges
        on unique_ids.charge_id = charges.charge_id
    inner join metrics
        on charges.billable_metric_code = metrics.billable_metric_code
),

steps as (
    {{ tally.aggregate_prorated('days', 'ids') }}
),

final as (
    select
        steps.external_subscription_id,
        steps.period_index,
        steps.charge_id,
        steps.filter_index,
        steps.group_key,
        row_number() over (
            partition by steps.external_subscription_id, steps.period_index, steps.charge_id,
                steps.filter_index, steps.group_key
            order by steps.step_date, steps.step_at, steps.step_file, steps.step_line
        ) as step_index,
        steps.step_date,
        steps.full_units,
        steps.active_days,
        periods.full_period_days,
        {{ tally.divide('steps.full_units * steps.active_days', 'periods.full_period_days') }} as prorated_units
    from steps
    inner join periods
        on steps.external_subscription_id = periods.external_subscription_id
        and steps.period_index = periods.period_index
)

select * from final
{%- endmacro %}
