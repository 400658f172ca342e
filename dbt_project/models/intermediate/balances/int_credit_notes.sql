-- Credit notes: money given back on an earlier invoice, usable by the customer's later
-- invoices (after taxes). Today one source: a progressive-billing invoice that billed more
-- usage than the period finally had (Lago credit_notes/create_from_progressive_billing_invoice);
-- its tax is the credited amount at that invoice's effective tax rate.
with credits as (
    select * from {{ ref('int_progressive_credits') }}
    where excess_amount > 0
),

subtotals as (
    select * from {{ ref('int_invoice_subtotals') }}
),

currencies as (
    select * from {{ ref('currencies') }}
),

notes as (
    select
        'cn_' || credits.credited_invoice_id || '_' || {{ tally.date_key('credits.issuing_date') }} as credit_note_id,
        credits.credited_invoice_id as invoice_id,
        credits.external_customer_id,
        'progressive_billing_excess' as reason,
        credits.excess_amount as amount,
        case when credited.sub_total_excluding_taxes > 0
            then {{ tally.round_money(tally.divide('credits.excess_amount * credited.taxes_amount',
                                                   'credited.sub_total_excluding_taxes'), 'currencies.minor_unit') }}
            else cast(0 as {{ tally.money_type() }}) end as taxes_amount,
        credits.currency,
        credits.issuing_date,
        credits.issued_at
    from credits
    inner join subtotals as credited
        on credits.credited_invoice_id = credited.invoice_id
    inner join currencies
        on credits.currency = currencies.currency
),

final as (
    select
        credit_note_id,
        invoice_id,
        external_customer_id,
        reason,
        cast(amount as {{ tally.money_type() }}) as amount,
        cast(taxes_amount as {{ tally.money_type() }}) as taxes_amount,
        cast(amount + taxes_amount as {{ tally.money_type() }}) as total_amount,
        currency,
        issuing_date,
        issued_at
    from notes
)

select * from final
