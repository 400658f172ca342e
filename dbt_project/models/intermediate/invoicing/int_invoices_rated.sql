-- Every billable invoice as rated by this run (all closed history, flagged by window),
-- amounts in Lago's order: fees → progressive-billing credit → coupons → taxes → credit
-- notes → prepaid credits. fct_invoices publishes these unless their month is finalized.
-- `credit_notes_amount` is a column SPEC §4 does not list: without it total_amount would
-- not visibly add up.
with subtotals as (
    select * from {{ ref('int_invoice_subtotals') }}
),

credit_notes as (
    select * from {{ ref('int_credit_note_allocations') }}
),

prepaid as (
    select invoice_id, sum(amount) as prepaid_credit_amount
    from {{ ref('int_wallet_allocations') }}
    group by 1
),

final as (
    select
        subtotals.invoice_id,
        subtotals.external_customer_id,
        subtotals.external_subscription_id,
        cast(subtotals.invoice_type as {{ dbt.type_string() }}) as invoice_type,
        subtotals.period_start,
        subtotals.period_end,
        subtotals.issuing_date,
        subtotals.currency,
        subtotals.fees_amount,
        subtotals.coupons_amount,
        subtotals.sub_total_excluding_taxes,
        subtotals.taxes_amount,
        subtotals.sub_total_including_taxes,
        subtotals.progressive_billing_credit_amount,
        cast(coalesce(credit_notes.credit_notes_amount, 0) as {{ tally.money_type() }}) as credit_notes_amount,
        cast(coalesce(prepaid.prepaid_credit_amount, 0) as {{ tally.money_type() }}) as prepaid_credit_amount,
        cast(subtotals.sub_total_including_taxes - coalesce(credit_notes.credit_notes_amount, 0)
            - coalesce(prepaid.prepaid_credit_amount, 0) as {{ tally.money_type() }}) as total_amount,
        cast('draft' as {{ dbt.type_string() }}) as status,
        cast(null as {{ dbt.type_string() }}) as adjusts_invoice_id,
        cast(null as {{ dbt.type_string() }}) as adjustment_reason,
        subtotals.is_in_window
    from subtotals
    left join credit_notes
        on subtotals.invoice_id = credit_notes.invoice_id
    left join prepaid
        on subtotals.invoice_id = prepaid.invoice_id
)

select * from final
