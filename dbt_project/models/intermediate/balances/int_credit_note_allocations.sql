-- A customer's available credit notes pay their later invoices after taxes (Lago
-- credits/credit_note_service), oldest first, never more than an invoice's tax-inclusive
-- amount; a credit note issued with an invoice is usable by that invoice.
with notes as (
    select * from {{ ref('int_credit_notes') }}
),

subtotals as (
    select * from {{ ref('int_invoice_subtotals') }}
    where invoice_type in ('subscription', 'progressive_billing')
),

flows as (
    select
        external_customer_id || '|' || currency as balance_key,
        issued_at,
        0 as row_kind,
        credit_note_id as row_key,
        cast(null as {{ dbt.type_string() }}) as invoice_id,
        total_amount as supply,
        cast(0 as {{ tally.money_type() }}) as demand
    from notes
    union all
    select
        external_customer_id || '|' || currency,
        issued_at,
        1,
        invoice_id,
        invoice_id,
        cast(0 as {{ tally.money_type() }}),
        case when sub_total_including_taxes > 0 then sub_total_including_taxes
            else cast(0 as {{ tally.money_type() }}) end
    from subtotals
    where external_customer_id in (select external_customer_id from notes)
),

allocated as (
    {{ tally.greedy_allocation('flows', 'balance_key', 'issued_at, row_kind, row_key') }}
),

final as (
    select invoice_id, cast(used as {{ tally.money_type() }}) as credit_notes_amount
    from allocated
    where row_kind = 1 and used > 0
)

select * from final
