-- billing.invoice_lines: one row per fee. Taxes are 0 until taxes land.
with lines as (
    select * from {{ ref('int_invoice_lines') }}
    where invoice_id in (select invoice_id from {{ ref('int_invoices') }} where is_in_window)
),

final as (
    select
        invoice_id,
        line_id,
        fee_type,
        charge_id,
        billable_metric_code,
        cast(units as {{ tally.num_type() }}) as units,
        cast(events_count as bigint) as events_count,
        cast(unit_amount as decimal(38, 12)) as unit_amount,
        cast(amount as {{ tally.money_type() }}) as amount,
        cast(0 as {{ tally.money_type() }}) as taxes_amount,
        currency
    from lines
)

select * from final
