-- Taxes per fee, after the progressive-billing credit and coupons (Lago
-- fees/apply_taxes_service). The credit is spread over the invoice's charge fees and the
-- coupons over all its fees, pro rata to their amounts; the tax of each fee is its net
-- amount × the rates of the first level that has taxes: the charge's (fixed charge's, add-on's), else the plan's, else
-- the customer's, else the default taxes. Credit purchases are not taxed.
-- Exact: each share is rounded half-up to 5 decimals of the minor unit, as Lago stores it
-- (fees.precise_coupons_amount_cents, decimal(30, 5) of cents), then the net amount and its
-- tax are exact decimals (macro round_share, percent_of), so a tax of exactly half a minor
-- unit is always rounded up (int_invoice_lines_rated, int_invoice_subtotals round once).
-- Lago shares out each coupon in turn, rounding after each; here the invoice's coupons are
-- shared out together (the same share before rounding).
with lines as (
    select * from {{ ref('int_invoice_lines') }}
),

invoices as (
    select * from {{ ref('int_invoices') }}
),

taxes as (
    select * from {{ ref('stg_taxes') }}
),

currencies as (
    select * from {{ ref('currencies') }}
),

progressive_credits as (
    select invoice_id, sum(credit_amount) as credit_amount
    from {{ ref('int_progressive_credits') }}
    group by 1
),

coupons as (
    select invoice_id, sum(amount) as coupons_amount
    from {{ ref('int_invoice_coupons') }}
    group by 1
),

invoice_sums as (
    select
        invoice_id,
        sum(amount) as fees_amount,
        sum(case when fee_type = 'charge' then amount else 0 end) as charge_amount
    from lines
    group by 1
),

-- a fee's own taxes: its charge's, fixed charge's or (one-off fee) add-on's
charge_rates as (
    select 'charge' as fee_type, charge_taxes.charge_id, sum(taxes.rate) as rate
    from {{ ref('stg_charge_taxes') }} as charge_taxes
    inner join taxes on charge_taxes.tax_code = taxes.tax_code
    group by charge_taxes.charge_id
    union all
    select 'fixed_charge', fixed_charge_taxes.fixed_charge_id, sum(taxes.rate)
    from {{ ref('stg_fixed_charge_taxes') }} as fixed_charge_taxes
    inner join taxes on fixed_charge_taxes.tax_code = taxes.tax_code
    group by fixed_charge_taxes.fixed_charge_id
    union all
    select 'add_on', add_on_taxes.add_on_code, sum(taxes.rate)
    from {{ ref('stg_add_on_taxes') }} as add_on_taxes
    inner join taxes on add_on_taxes.tax_code = taxes.tax_code
    group by add_on_taxes.add_on_code
),

plan_rates as (
    select plan_taxes.plan_code, sum(taxes.rate) as rate
    from {{ ref('stg_plan_taxes') }} as plan_taxes
    inner join taxes on plan_taxes.tax_code = taxes.tax_code
    group by 1
),

customer_rates as (
    select customer_taxes.external_customer_id, sum(taxes.rate) as rate
    from {{ ref('stg_customer_taxes') }} as customer_taxes
    inner join taxes on customer_taxes.tax_code = taxes.tax_code
    group by 1
),

default_rate as (
    select sum(rate) as rate
    from taxes
    where applied_by_default
),

-- every branch of a share is share_type: a CASE over decimals of different scales takes the
-- smallest scale, which once rounded shares to 10 decimals and a tax at an exact half either way
shares as (
    select
        lines.*,
        invoices.invoice_type,
        invoices.plan_code,
        invoices.external_customer_id,
        currencies.minor_unit,
        case when lines.fee_type = 'charge' and invoice_sums.charge_amount > 0
            then {{ tally.round_share('coalesce(progressive_credits.credit_amount, 0) * lines.amount',
                'invoice_sums.charge_amount', 'currencies.minor_unit') }}
            else cast(0 as {{ tally.share_type() }}) end as progressive_credit_share,
        coalesce(coupons.coupons_amount, 0) as coupons_amount,
        invoice_sums.fees_amount - coalesce(progressive_credits.credit_amount, 0) as coupon_base
    from lines
    inner join invoices
        on lines.invoice_id = invoices.invoice_id
    inner join invoice_sums
        on lines.invoice_id = invoice_sums.invoice_id
    inner join currencies
        on lines.currency = currencies.currency
    left join progressive_credits
        on lines.invoice_id = progressive_credits.invoice_id
    left join coupons
        on lines.invoice_id = coupons.invoice_id
),

netted as (
    select
        shares.*,
        case when shares.coupon_base > 0 and shares.coupons_amount > 0
            then {{ tally.round_share('coupons_amount * (amount - progressive_credit_share)', 'coupon_base',
                'minor_unit') }}
            else cast(0 as {{ tally.share_type() }}) end as coupon_share
    from shares
),

rated as (
    select
        netted.*,
        case
            when netted.fee_type = 'credit' then {{ tally.to_num('0') }}
            else {{ tally.to_num(
                'coalesce(charge_rates.rate, '
                ~ 'plan_rates.rate, customer_rates.rate, default_rate.rate, 0)') }}
        end as tax_rate
    from netted
    left join charge_rates
        on netted.fee_type = charge_rates.fee_type
        and netted.charge_id = charge_rates.charge_id
    left join plan_rates
        on netted.plan_code = plan_rates.plan_code
    left join customer_rates
        on netted.external_customer_id = customer_rates.external_customer_id
    cross join default_rate
),

final as (
    select
        invoice_id,
        line_id,
        currency,
        amount,
        cast(progressive_credit_share + coupon_share as {{ tally.share_type() }}) as precise_credits_amount,
        cast(amount - progressive_credit_share - coupon_share as {{ tally.share_type() }}) as taxable_amount,
        tax_rate,
        {{ tally.percent_of('amount - progressive_credit_share - coupon_share', 'tax_rate') }}
            as precise_taxes_amount
    from rated
)

select * from final
