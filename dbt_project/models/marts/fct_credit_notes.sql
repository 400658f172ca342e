-- billing.credit_notes: money given back on an earlier invoice (SPEC §4).
with notes as (
    select * from {{ ref('int_credit_notes') }}
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
)

select * from final
