-- billing.invoices: the window's invoices. A month closed by `tally finalize` publishes its
-- frozen invoices exactly as they were finalized; re-rating it adds `adjustment` invoices
-- (int_invoice_adjustments) instead of changing them. Adjustment invoices of every finalized
-- month are published by every run, like the credit notes: draft ones follow the latest
-- rating until a later month's close freezes them. Columns SPEC §4 does not list: credit_notes_amount (so the total visibly
-- adds up), adjusts_invoice_id and adjustment_reason (on adjustment invoices).
{%- set columns = tally.invoice_columns() %}
with months as (
    select * from {{ ref('int_finalized_months') }}
),

rated as (
    select * from {{ ref('int_invoices_rated') }}
    where is_in_window
      and cast({{ dbt.date_trunc('month', 'period_end') }} as date) not in (select billing_month from months)
),

-- the window's frozen invoices, and the frozen adjustments of every finalized month the run
-- rates (published by every run, like the draft ones)
frozen as (
    select * from {{ ref('int_finalized_invoices') }}
    where (period_end >= {{ tally.billing_from() }} or invoice_type = 'adjustment')
      and period_end < {{ tally.billing_to() }}
),

adjustments as (
    select * from {{ ref('int_invoice_adjustments') }}
    where adjustment_kind = 'adjustment_invoice'
),

adjustment_invoices as (
    select
        invoice_id || {{ tally.adjustment_suffix('adjustment_round') }} as invoice_id,
        external_customer_id,
        external_subscription_id,
        cast('adjustment' as {{ dbt.type_string() }}) as invoice_type,
        period_start,
        period_end,
        issuing_date,
        currency,
        cast(fees_amount_delta as {{ tally.money_type() }}) as fees_amount,
        cast(coupons_amount_delta as {{ tally.money_type() }}) as coupons_amount,
        cast(sub_total_excluding_taxes_delta as {{ tally.money_type() }}) as sub_total_excluding_taxes,
        cast(taxes_amount_delta as {{ tally.money_type() }}) as taxes_amount,
        cast(sub_total_including_taxes_delta as {{ tally.money_type() }}) as sub_total_including_taxes,
        cast(progressive_billing_credit_amount_delta as {{ tally.money_type() }}) as progressive_billing_credit_amount,
        cast(0 as {{ tally.money_type() }}) as credit_notes_amount,
        cast(0 as {{ tally.money_type() }}) as prepaid_credit_amount,
        cast(sub_total_including_taxes_delta as {{ tally.money_type() }}) as total_amount,
        cast('draft' as {{ dbt.type_string() }}) as status,
        invoice_id as adjusts_invoice_id,
        cast(reason as {{ dbt.type_string() }}) as adjustment_reason
    from adjustments
),

-- rated rows carry a segment's key after a plan change: published under the external_id
final as (
    select {{ tally.columns_with_public_subscription_id('rated', columns) }} from rated
    union all
    select {{ columns | join(', ') }} from frozen
    union all
    select {{ tally.columns_with_public_subscription_id('adjustment_invoices', columns) }} from adjustment_invoices
)

select * from final
