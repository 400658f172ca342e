-- Coupons, before taxes, in Lago's order (credits/applied_coupon_service): a customer's
-- coupons apply oldest first, each to what the earlier ones left of the invoice's fees
-- (after the progressive-billing credit), never past zero, and not at all once nothing is
-- left. Invoices are taken in the order they are issued.
--   percentage   round(remaining × rate / 100), capped at the remaining amount
--   fixed_amount once: one budget used up across invoices; recurring / forever: up to the
--                amount on each invoice, what is left of it is lost
--   frequency    once (percentage: the first invoice), recurring (the first N invoices it
--                applies to), forever
-- The catalog allows at most `max_coupons_per_customer` coupons per customer: each one is
-- a step below, so the whole chain stays set-based SQL.
{% set max_coupons = var('max_coupons_per_customer', 10) %}
with invoices as (
    select * from {{ ref('int_invoices') }}
    where invoice_type in ('subscription', 'progressive_billing')
),

lines as (
    select invoice_id, sum(amount) as fees_amount
    from {{ ref('int_invoice_lines') }}
    group by 1
),

progressive_credits as (
    select invoice_id, sum(credit_amount) as credit_amount
    from {{ ref('int_progressive_credits') }}
    group by 1
),

currencies as (
    select * from {{ ref('currencies') }}
),

applied as (
    select
        applied_coupons.external_customer_id,
        applied_coupons.coupon_code,
        applied_coupons.applied_at,
        coupons.coupon_type,
        coupons.amount as coupon_amount,
        coupons.percentage_rate,
        coupons.frequency,
        coupons.frequency_duration,
        row_number() over (
            partition by applied_coupons.external_customer_id
            order by applied_coupons.applied_at, applied_coupons.applied_order
        ) as coupon_rank
    from {{ ref('stg_applied_coupons') }} as applied_coupons
    inner join {{ ref('stg_coupons') }} as coupons
        on applied_coupons.coupon_code = coupons.coupon_code
),

remaining_0 as (
    select
        invoices.invoice_id,
        invoices.external_customer_id,
        invoices.issued_at,
        currencies.minor_unit,
        cast(coalesce(lines.fees_amount, 0) - coalesce(progressive_credits.credit_amount, 0)
            as {{ tally.money_type() }}) as remaining
    from invoices
    inner join currencies
        on invoices.currency = currencies.currency
    left join lines
        on invoices.invoice_id = lines.invoice_id
    left join progressive_credits
        on invoices.invoice_id = progressive_credits.invoice_id
),

{% for r in range(1, max_coupons + 1) %}
candidates_{{ r }} as (
    select
        remaining_{{ r - 1 }}.*,
        applied.coupon_code,
        applied.coupon_type,
        applied.frequency,
        applied.frequency_duration,
        applied.percentage_rate,
        {{ tally.round_money('applied.coupon_amount', 'remaining_' ~ (r - 1) ~ '.minor_unit') }} as coupon_amount,
        row_number() over (
            partition by remaining_{{ r - 1 }}.external_customer_id
            order by remaining_{{ r - 1 }}.issued_at, remaining_{{ r - 1 }}.invoice_id
        ) as use_number,
        sum(remaining_{{ r - 1 }}.remaining) over (
            partition by remaining_{{ r - 1 }}.external_customer_id
            order by remaining_{{ r - 1 }}.issued_at, remaining_{{ r - 1 }}.invoice_id
            rows between unbounded preceding and current row
        ) as demand_to_date
    from remaining_{{ r - 1 }}
    inner join applied
        on remaining_{{ r - 1 }}.external_customer_id = applied.external_customer_id
        and applied.coupon_rank = {{ r }}
    where remaining_{{ r - 1 }}.issued_at >= applied.applied_at
        and remaining_{{ r - 1 }}.remaining > 0
),

amounts_{{ r }} as (
    select
        invoice_id,
        coupon_code,
        {{ r }} as coupon_rank,
        case
            -- tally.divide, not `/ 100`: DuckDB divides decimals as DOUBLE, and 2.0035 would round to 2.003
            when coupon_type = 'percentage' then
                case when {{ tally.round_money(tally.divide('remaining * percentage_rate', '100'), 'minor_unit') }}
                    > remaining
                    then remaining
                    else {{ tally.round_money(tally.divide('remaining * percentage_rate', '100'), 'minor_unit') }} end
            when frequency = 'once' then
                -- one budget across invoices: used to date = least(demand to date, budget)
                case when demand_to_date < coupon_amount then demand_to_date else coupon_amount end
                - case when demand_to_date - remaining < coupon_amount then demand_to_date - remaining
                    else coupon_amount end
            when coupon_amount > remaining then remaining
            else coupon_amount
        end as amount
    from candidates_{{ r }}
    where frequency = 'forever'
        or (frequency = 'recurring' and use_number <= frequency_duration)
        or (frequency = 'once' and (coupon_type = 'fixed_amount' or use_number = 1))
),

remaining_{{ r }} as (
    select
        remaining_{{ r - 1 }}.invoice_id,
        remaining_{{ r - 1 }}.external_customer_id,
        remaining_{{ r - 1 }}.issued_at,
        remaining_{{ r - 1 }}.minor_unit,
        cast(remaining_{{ r - 1 }}.remaining - coalesce(amounts_{{ r }}.amount, 0) as {{ tally.money_type() }})
            as remaining
    from remaining_{{ r - 1 }}
    left join amounts_{{ r }}
        on remaining_{{ r - 1 }}.invoice_id = amounts_{{ r }}.invoice_id
),
{% endfor %}

final as (
    {% for r in range(1, max_coupons + 1) %}
    select invoice_id, coupon_code, coupon_rank, cast(amount as {{ tally.money_type() }}) as amount
    from amounts_{{ r }}
    where amount > 0
    {% if not loop.last %}union all{% endif %}
    {% endfor %}
)

select * from final
