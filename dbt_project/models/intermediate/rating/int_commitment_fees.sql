-- Plan minimum commitments (Lago commitments/minimum/calculate_true_up_fee_service): at the
-- end of each plan period, the pre-coupon, pre-tax fees of that period — its subscription
-- fee (billed in advance or in arrears), its charge fees and charge true-ups, its instant fees
-- (a recurring charge's opening fee included), its fixed-charge fees (Lago's
-- calculate_amount_service counts them, by the period they cover) — are compared
-- with the commitment prorated by the period's days (rounded half-up to the minor unit);
-- a shortfall is a `commitment` fee on the invoice closing the period. A yearly plan has
-- yearly periods, so its commitment is checked once, at the end of its year.
with periods as (
    select * from {{ ref('int_billing_periods') }}
    where is_billable
),

plans as (
    select * from {{ ref('stg_plans') }}
    where minimum_commitment > 0
),

currencies as (
    select * from {{ ref('currencies') }}
),

period_fees as (
    select external_subscription_id, service_period_index as period_index, amount
    from {{ ref('int_subscription_fees') }}
    union all
    select external_subscription_id, period_index, amount
    from {{ ref('int_charge_fees') }}
    union all
    select external_subscription_id, period_index, amount
    from {{ ref('int_charge_true_ups') }}
    union all
    -- pay-in-advance fees, invoiced or not (Lago counts them: decision 23), by the period they
    -- cover: a recurring charge's opening fee, billed when the previous period closes, counts in
    -- its own period (Lago minimum/in_arrears/calculate_true_up_fee_service.rb
    -- charge_in_advance_recurring_fees)
    select external_subscription_id, service_period_index, amount
    from {{ ref('int_instant_fees') }}
    union all
    -- fixed charges (Lago counts them too: decision 24)
    select external_subscription_id, service_period_index, amount
    from {{ ref('int_fixed_charge_fees') }}
),

fees_total as (
    select external_subscription_id, period_index, sum(amount) as fees_amount
    from period_fees
    group by 1, 2
),

commitments as (
    select
        periods.external_subscription_id,
        periods.external_customer_id,
        periods.currency,
        periods.period_index,
        coalesce(fees_total.fees_amount, 0) as fees_amount,
        {{ tally.round_money(tally.prorate('plans.minimum_commitment', 'periods.period_days',
                                           'periods.full_period_days'), 'currencies.minor_unit') }}
            as commitment_amount
    from periods
    inner join plans
        on periods.plan_code = plans.plan_code
    inner join currencies
        on periods.currency = currencies.currency
    left join fees_total
        on periods.external_subscription_id = fees_total.external_subscription_id
        and periods.period_index = fees_total.period_index
),

final as (
    select
        external_subscription_id,
        external_customer_id,
        currency,
        period_index,
        fees_amount,
        commitment_amount,
        {{ tally.to_num('commitment_amount - fees_amount') }} as precise_amount,
        cast(commitment_amount - fees_amount as {{ tally.money_type() }}) as amount
    from commitments
    where commitment_amount > fees_amount
)

select * from final
