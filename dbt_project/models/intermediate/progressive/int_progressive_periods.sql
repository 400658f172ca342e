-- Progressive billing (Lago usage thresholds, reference §5): the billable periods it follows
-- (those of plans with usage thresholds), each with H, the lifetime usage it starts from.
-- H = the rounded charge fees of the subscription's earlier periods, charge minimums' true-ups
-- included: Lago's lifetime usage sums every `charge` fee of the subscription's invoices
-- (lifetime_usages/calculate_service), and a true-up is a copy of the charge's fee
-- (fees/create_true_up_service). Lifetime usage in a period is then L(t) = H + C(t), C the
-- period's usage so far (int_progressive_invoices).
with billing_periods as (
    select * from {{ ref('int_billing_periods') }}
),

thresholds as (
    select * from {{ ref('stg_usage_thresholds') }}
),

charge_fees as (
    select external_subscription_id, period_index, amount
    from {{ ref('int_charge_fees') }}
    union all
    select external_subscription_id, period_index, amount
    from {{ ref('int_charge_true_ups') }}
),

period_fees as (
    select external_subscription_id, period_index, sum(amount) as period_amount
    from charge_fees
    group by 1, 2
),

-- the fees of every earlier billable period of the subscription (null before the first)
historical as (
    select
        billing_periods.external_subscription_id,
        billing_periods.external_customer_id,
        billing_periods.period_index,
        billing_periods.plan_code,
        billing_periods.currency,
        billing_periods.timezone,
        billing_periods.from_at,
        billing_periods.to_at,
        sum(period_fees.period_amount) over (
            partition by billing_periods.external_subscription_id
            order by billing_periods.period_index
            rows between unbounded preceding and 1 preceding
        ) as historical_amount
    from billing_periods
    left join period_fees
        on billing_periods.external_subscription_id = period_fees.external_subscription_id
        and billing_periods.period_index = period_fees.period_index
    where billing_periods.is_billable
),

final as (
    select
        external_subscription_id,
        external_customer_id,
        period_index,
        plan_code,
        currency,
        timezone,
        from_at,
        to_at,
        coalesce(historical_amount, 0) as historical_amount
    from historical
    where plan_code in (select plan_code from thresholds)
)

select * from final
