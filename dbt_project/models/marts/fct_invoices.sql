-- billing.invoices: one row per invoice of the run's window. Totals follow Lago's order
-- (fees → progressive-billing credit → coupons → taxes → credit notes → prepaid credits);
-- coupons, taxes, progressive billing and prepaid credits are 0 until those features land.
with invoices as (
    select * from {{ ref('int_invoices') }}
    where is_in_window
),

lines as (
    select * from {{ ref('int_invoice_lines') }}
),

totals as (
    select invoice_id, sum(amount) as fees_amount
    from lines
    group by invoice_id
),

amounts as (
    select
        invoices.*,
        cast(coalesce(totals.fees_amount, 0) as {{ tally.money_type() }}) as fees_amount,
        cast(0 as {{ tally.money_type() }}) as coupons_amount,
        cast(0 as {{ tally.money_type() }}) as taxes_amount,
        cast(0 as {{ tally.money_type() }}) as progressive_billing_credit_amount,
        cast(0 as {{ tally.money_type() }}) as prepaid_credit_amount
    from invoices
    left join totals
        on invoices.invoice_id = totals.invoice_id
),

final as (
    select
        invoice_id,
        external_customer_id,
        external_subscription_id,
        cast('subscription' as {{ dbt.type_string() }}) as invoice_type,
        period_start,
        period_end,
        issuing_date,
        currency,
        fees_amount,
        coupons_amount,
        cast(fees_amount - progressive_billing_credit_amount - coupons_amount as {{ tally.money_type() }})
            as sub_total_excluding_taxes,
        taxes_amount,
        cast(fees_amount - progressive_billing_credit_amount - coupons_amount + taxes_amount
            as {{ tally.money_type() }}) as sub_total_including_taxes,
        progressive_billing_credit_amount,
        prepaid_credit_amount,
        cast(fees_amount - progressive_billing_credit_amount - coupons_amount + taxes_amount
            - prepaid_credit_amount as {{ tally.money_type() }}) as total_amount,
        cast('draft' as {{ dbt.type_string() }}) as status
    from amounts
)

select * from final
