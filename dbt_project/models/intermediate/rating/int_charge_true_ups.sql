-- Charge spending minimums (Lago fees/create_true_up_service): when the rounded fees of a
-- charge in a period (all its filter buckets and groups) stay below its min_amount,
-- prorated by the period's days over the full period's days, a true-up fee bills the
-- difference, rounded once to the minor unit.
with periods as (
    select * from {{ ref('int_billing_periods') }}
    where is_billable
),

charges as (
    select * from {{ ref('stg_charges') }}
    where min_amount > 0
),

fees as (
    select * from {{ ref('int_charge_fees') }}
),

currencies as (
    select * from {{ ref('currencies') }}
),

charged as (
    select external_subscription_id, period_index, charge_id, sum(amount) as fees_amount
    from fees
    group by 1, 2, 3
),

minimums as (
    select
        periods.external_subscription_id,
        periods.external_customer_id,
        periods.currency,
        periods.period_index,
        charges.charge_id,
        charges.billable_metric_code,
        coalesce(charges.invoice_display_name, charges.billable_metric_code) as display_name,
        {{ tally.prorate('charges.min_amount', 'periods.period_days', 'periods.full_period_days') }}
            as prorated_min_amount,
        coalesce(charged.fees_amount, 0) as fees_amount,
        currencies.minor_unit
    from periods
    inner join charges
        on periods.plan_code = charges.plan_code
    inner join currencies
        on periods.currency = currencies.currency
    left join charged
        on periods.external_subscription_id = charged.external_subscription_id
        and periods.period_index = charged.period_index
        and charges.charge_id = charged.charge_id
),

final as (
    select
        external_subscription_id,
        external_customer_id,
        currency,
        period_index,
        charge_id,
        billable_metric_code,
        display_name,
        fees_amount,
        {{ tally.to_num('prorated_min_amount') }} as prorated_min_amount,
        {{ tally.to_num('prorated_min_amount - fees_amount') }} as precise_amount,
        {{ tally.round_money('prorated_min_amount - fees_amount', 'minor_unit') }} as amount
    from minimums
    where prorated_min_amount > fees_amount
)

select * from final
