-- Each invoice's amounts up to taxes, in Lago's order: fees → progressive-billing credit →
-- coupons → taxes. The invoice's tax is the rounded sum of the fees' unrounded taxes
-- (Lago compute_amounts_from_fees), so it can differ by a minor unit from the sum of the
-- rounded per-line taxes.
with invoices as (
    select * from {{ ref('int_invoices') }}
),

line_taxes as (
    select * from {{ ref('int_invoice_line_taxes') }}
),

currencies as (
    select * from {{ ref('currencies') }}
),

fees as (
    select invoice_id, sum(amount) as fees_amount, sum(precise_taxes_amount) as precise_taxes_amount
    from line_taxes
    group by 1
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

amounts as (
    select
        invoices.*,
        cast(coalesce(fees.fees_amount, 0) as {{ tally.money_type() }}) as fees_amount,
        cast(coalesce(progressive_credits.credit_amount, 0) as {{ tally.money_type() }})
            as progressive_billing_credit_amount,
        cast(coalesce(coupons.coupons_amount, 0) as {{ tally.money_type() }}) as coupons_amount,
        {{ tally.round_money('coalesce(fees.precise_taxes_amount, 0)', 'currencies.minor_unit') }} as taxes_amount
    from invoices
    inner join currencies
        on invoices.currency = currencies.currency
    left join fees
        on invoices.invoice_id = fees.invoice_id
    left join progressive_credits
        on invoices.invoice_id = progressive_credits.invoice_id
    left join coupons
        on invoices.invoice_id = coupons.invoice_id
),

final as (
    select
        amounts.*,
        cast(amounts.fees_amount - amounts.progressive_billing_credit_amount - amounts.coupons_amount as {{ tally.money_type() }})
            as sub_total_excluding_taxes,
        cast(amounts.fees_amount - amounts.progressive_billing_credit_amount - amounts.coupons_amount + amounts.taxes_amount
            as {{ tally.money_type() }}) as sub_total_including_taxes
    from amounts
)

select * from final
