-- billing.invoice_lines: the lines of the invoices in billing.invoices (see fct_invoices):
-- rated lines, frozen lines of finalized invoices (frozen adjustments included), and the lines
-- of draft adjustment invoices, one per fee whose amount, units or events changed, carrying
-- the difference (int_invoice_adjustment_lines).
{%- set columns = tally.invoice_line_columns() %}
with rated as (
    select * from {{ ref('int_invoice_lines_rated') }}
),

frozen as (
    select * from {{ ref('int_finalized_invoice_lines') }}
),

-- adjustment invoices have ids of their own (`_adj`, `_adj2`...): no rated or frozen row
-- matches a draft one; frozen adjustment invoices publish their frozen lines
published_rated as (
    {{ tally.rows_of_published_invoices('rated', 'draft') }}
),

published_frozen as (
    {{ tally.rows_of_published_invoices('frozen', 'finalized') }}
),

adjustment_lines as (
    select
        adjusted_invoice_id || {{ tally.adjustment_suffix('adjustment_round') }} as invoice_id,
        line_id || ':' || substring({{ tally.adjustment_suffix('adjustment_round') }}, 2) as line_id,
        fee_type,
        charge_id,
        billable_metric_code,
        units,
        events_count,
        cast(case when units <> 0 then {{ tally.divide('amount', 'units') }} end as decimal(38, 12)) as unit_amount,
        amount,
        taxes_amount,
        currency,
        full_units
    from {{ ref('int_invoice_adjustment_lines') }}
    where adjustment_kind = 'adjustment_invoice'
),

final as (
    select {{ columns | join(', ') }} from published_rated
    union all
    select {{ columns | join(', ') }} from published_frozen
    union all
    select {{ columns | join(', ') }} from adjustment_lines
)

select * from final
