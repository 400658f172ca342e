-- billing.credit_notes: money given back on an earlier invoice (SPEC §4): progressive-billing
-- excess (used by the customer's later invoices) and re-rating adjustments of finalized
-- months, where the customer was over-billed (reason late_events or catalog_change; these
-- are refunded or credited by finance, not applied to later invoices automatically); those
-- a later month's close froze are published as they were frozen.
with notes as (
    select * from {{ ref('int_credit_notes') }}
),

adjustments as (
    select * from {{ ref('int_invoice_adjustments') }}
    where adjustment_kind = 'credit_note'
),

-- adjustment credit notes frozen by a later month's close
frozen as (
    select * from {{ ref('int_finalized_credit_notes') }}
),

final as (
    select
        credit_note_id,
        invoice_id,
        cast(reason as {{ dbt.type_string() }}) as reason,
        amount,
        taxes_amount,
        total_amount,
        currency,
        issuing_date
    from notes

    union all

    select
        'cn_' || invoice_id || {{ tally.adjustment_suffix('adjustment_round') }} as credit_note_id,
        invoice_id,
        cast(reason as {{ dbt.type_string() }}) as reason,
        cast(-sub_total_excluding_taxes_delta as {{ tally.money_type() }}) as amount,
        cast(-taxes_amount_delta as {{ tally.money_type() }}) as taxes_amount,
        cast(-sub_total_including_taxes_delta as {{ tally.money_type() }}) as total_amount,
        currency,
        issuing_date
    from adjustments

    union all

    select credit_note_id, invoice_id, reason, amount, taxes_amount, total_amount, currency, issuing_date
    from frozen
)

select * from final
