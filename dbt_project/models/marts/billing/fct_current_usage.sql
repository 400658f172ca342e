-- billing.current_usage: every active subscription's open period so far (decision 27): one row
-- per charge fee (charge × price bucket × pricing group, as the closing invoice's lines) and
-- one for the subscription fee due for the period, with the amount so far rated and rounded
-- exactly as the invoice closing the period will, and Lago's projection to the period's end.
-- Pay-in-advance charges are here too, as in Lago's current usage (pay_in_advance: their fees
-- are invoiced as events land, billing.instant_fees, not by the closing invoice).
with periods as (
    select * from {{ ref('int_current_periods') }}
),

charge_fees as (
    select * from {{ ref('int_current_charge_fees') }}
),

subscription_fees as (
    select * from {{ ref('int_subscription_fees') }}
),

metrics as (
    select * from {{ ref('stg_billable_metrics') }}
),

charges as (
    select * from {{ ref('stg_charges') }}
),

currencies as (
    select * from {{ ref('currencies') }}
),

fees as (
    select
        charge_fees.external_subscription_id,
        charge_fees.period_index,
        'charge' as fee_type,
        charge_fees.charge_id,
        charge_fees.billable_metric_code,
        charge_fees.filter_index,
        charge_fees.group_key,
        charge_fees.display_name,
        charge_fees.charge_model,
        charge_fees.units,
        charge_fees.events_count,
        charge_fees.amount,
        coalesce(charges.pay_in_advance, false) as pay_in_advance,
        metrics.is_recurring
    from charge_fees
    inner join metrics
        on charge_fees.billable_metric_code = metrics.billable_metric_code
    inner join charges
        on charge_fees.charge_id = charges.charge_id
    union all
    select
        periods.external_subscription_id,
        periods.period_index,
        'subscription' as fee_type,
        cast(null as {{ dbt.type_string() }}) as charge_id,
        cast(null as {{ dbt.type_string() }}) as billable_metric_code,
        cast(null as integer) as filter_index,
        '' as group_key,
        periods.plan_code as display_name,
        cast(null as {{ dbt.type_string() }}) as charge_model,
        {{ tally.to_num('1') }} as units,
        0 as events_count,
        subscription_fees.amount,
        -- the plan's own setting: the fee due in advance or in arrears
        periods.pay_in_advance,
        -- a fixed fee: known in full, nothing to project
        true as is_recurring
    from periods
    inner join subscription_fees
        on periods.external_subscription_id = subscription_fees.external_subscription_id
        and periods.period_index = subscription_fees.service_period_index
),

-- Lago's projection (decision 26): the share of the period's days passed by as_of's local
-- day, both counted inclusive; a recurring meter's value is already its period-end value
projected as (
    select
        fees.*,
        periods.external_customer_id,
        periods.plan_code,
        periods.currency,
        periods.period_start,
        periods.period_end,
        periods.as_of,
        {{ dbt.datediff('periods.period_start', 'periods.period_end', 'day') }} + 1 as total_days,
        {{ dbt.datediff('periods.period_start', 'periods.as_of_on', 'day') }} + 1 as days_passed,
        currencies.minor_unit
    from fees
    inner join periods
        on fees.external_subscription_id = periods.external_subscription_id
        and fees.period_index = periods.period_index
    inner join currencies
        on periods.currency = currencies.currency
),

final as (
    select
        external_customer_id,
        {{ tally.public_subscription_id('external_subscription_id') }} as external_subscription_id,
        plan_code,
        currency,
        period_start,
        period_end,
        fee_type,
        charge_id,
        billable_metric_code,
        cast(filter_index as integer) as filter_index,
        group_key,
        display_name,
        charge_model,
        pay_in_advance,
        cast(units as {{ tally.num_type() }}) as units,
        cast(events_count as bigint) as events_count,
        cast(amount as {{ tally.money_type() }}) as amount,
        -- each branch cast on its own: DuckDB gives a CASE over decimals the smaller scale
        case
            when is_recurring or days_passed >= total_days then {{ tally.to_num('units') }}
            else {{ tally.to_num("round(" ~ tally.divide('units * total_days', 'days_passed') ~ ", 2)") }}
        end as projected_units,
        cast(case
            when is_recurring or days_passed >= total_days then amount
            else {{ tally.round_money(tally.divide('amount * total_days', 'days_passed'), 'minor_unit') }}
        end as {{ tally.money_type() }}) as projected_amount,
        cast(as_of as timestamp) as as_of
    from projected
)

select * from final
