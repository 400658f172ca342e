-- One row per fee of every billable invoice as rated by this run, with its tax (rounded per
-- fee; the invoice's tax is the rounded sum of the unrounded fee taxes).
with lines as (
    select * from {{ ref('int_invoice_lines') }}
),

taxes as (
    select * from {{ ref('int_invoice_line_taxes') }}
),

currencies as (
    select * from {{ ref('currencies') }}
),

final as (
    select
        lines.invoice_id,
        lines.line_id,
        lines.fee_type,
        lines.charge_id,
        lines.billable_metric_code,
        cast(lines.units as {{ tally.num_type() }}) as units,
        cast(lines.events_count as bigint) as events_count,
        cast(lines.unit_amount as decimal(38, 12)) as unit_amount,
        cast(lines.amount as {{ tally.money_type() }}) as amount,
        {{ tally.round_money('taxes.precise_taxes_amount', 'currencies.minor_unit') }} as taxes_amount,
        lines.currency,
        -- last: a published column added at the end is an upgrade in place (orchestration/publish.py)
        cast(lines.full_units as {{ tally.num_type() }}) as full_units
    from lines
    inner join taxes
        on lines.line_id = taxes.line_id
    inner join currencies
        on lines.currency = currencies.currency
)

select * from final
