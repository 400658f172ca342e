-- The plan's subscription fee for each period: amount × fee days / days of the full period
-- (partial first/last periods and trial days), rounded to the minor unit (Lago
-- fees/subscription_service). In arrears it goes on the invoice closing that period; in
-- advance on the invoice opening it: the closing invoice of the previous period, or for the
-- first period an invoice issued the day the subscription starts.
with periods as (
    select * from {{ ref('int_billing_periods') }}
),

currencies as (
    select * from {{ ref('currencies') }}
),

fees as (
    select
        periods.*,
        {{ tally.prorate('plan_amount', 'fee_days', 'full_period_days') }} as precise_amount,
        currencies.minor_unit
    from periods
    inner join currencies
        on periods.currency = currencies.currency
),

final as (
    select
        external_subscription_id,
        external_customer_id,
        currency,
        period_index as service_period_index,
        case
            when not pay_in_advance then period_index
            when period_index = 0 then 0
            else period_index - 1
        end as invoice_period_index,
        case when pay_in_advance and period_index = 0 then 'opening' else 'closing' end as invoice_kind,
        fee_days,
        full_period_days,
        {{ tally.to_num('precise_amount') }} as precise_amount,
        {{ tally.round_money('precise_amount', 'minor_unit') }} as amount
    from fees
)

select * from final
