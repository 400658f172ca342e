-- A customer's available credit notes pay their later invoices after taxes (Lago
-- credits/credit_note_service), oldest first, never more than an invoice's tax-inclusive
-- amount; a credit note issued with an invoice is usable by that invoice.
-- A finalized invoice keeps the credit notes it used when frozen (int_finalized_invoice_balances),
-- whatever it rates at now: that amount leaves the balance at the invoice's time, before the
-- draft invoices of the same instant, which share what is left.
with notes as (
    select * from {{ ref('int_credit_notes') }}
),

subtotals as (
    select * from {{ ref('int_invoice_subtotals') }}
    where invoice_type in ('subscription', 'progressive_billing')
),

frozen as (
    select
        frozen.invoice_id,
        frozen.external_customer_id,
        frozen.currency,
        frozen.credit_notes_amount,
        coalesce(subtotals.issued_at, cast(frozen.issuing_date as timestamp)) as issued_at
    from {{ ref('int_finalized_invoice_balances') }} as frozen
    left join subtotals
        on frozen.invoice_id = subtotals.invoice_id
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
    -- a frozen invoice's take, as money leaving the balance
    select
        external_customer_id || '|' || currency,
        issued_at,
        1,
        '',
        cast(null as {{ dbt.type_string() }}),
        cast(-credit_notes_amount as {{ tally.money_type() }}),
        cast(0 as {{ tally.money_type() }})
    from frozen
    where credit_notes_amount > 0
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
        and invoice_id not in (select invoice_id from frozen)
),

allocated as (
    {{ tally.greedy_allocation('flows', 'balance_key', 'issued_at, row_kind, row_key') }}
),

final as (
    select invoice_id, cast(used as {{ tally.money_type() }}) as credit_notes_amount
    from allocated
    where row_kind = 1 and invoice_id is not null and used > 0
    union all
    select invoice_id, credit_notes_amount
    from frozen
    where credit_notes_amount > 0
)

select * from final
