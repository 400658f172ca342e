-- billing.invoice_lines: the lines of the invoices in billing.invoices (see fct_invoices):
-- rated lines, frozen lines of finalized invoices, and the lines of adjustment invoices, one
-- per fee whose amount, units or events changed, carrying the difference.
{%- set columns = tally.invoice_line_columns() %}
with rated as (
    select * from {{ ref('int_invoice_lines_rated') }}
),

frozen as (
    select * from {{ ref('int_finalized_invoice_lines') }}
),

adjustments as (
    select * from {{ ref('int_invoice_adjustments') }}
    where adjustment_kind = 'adjustment_invoice'
),

-- adjustment invoices have ids of their own (`_adj`): no rated or frozen row matches them
published_rated as (
    {{ tally.rows_of_published_invoices('rated', 'draft') }}
),

published_frozen as (
    {{ tally.rows_of_published_invoices('frozen', 'finalized') }}
),

adjusted_rated as (
    select * from rated
    where invoice_id in (select invoice_id from adjustments)
),

adjusted_frozen as (
    select * from frozen
    where invoice_id in (select invoice_id from adjustments)
),

line_pairs as (
    select
        coalesce(adjusted_rated.invoice_id, adjusted_frozen.invoice_id) as adjusted_invoice_id,
        coalesce(adjusted_rated.line_id, adjusted_frozen.line_id) || ':adj' as line_id,
        coalesce(adjusted_rated.fee_type, adjusted_frozen.fee_type) as fee_type,
        coalesce(adjusted_rated.charge_id, adjusted_frozen.charge_id) as charge_id,
        coalesce(adjusted_rated.billable_metric_code, adjusted_frozen.billable_metric_code) as billable_metric_code,
        coalesce(adjusted_rated.units, 0) - coalesce(adjusted_frozen.units, 0) as units,
        coalesce(adjusted_rated.events_count, 0) - coalesce(adjusted_frozen.events_count, 0) as events_count,
        coalesce(adjusted_rated.amount, 0) - coalesce(adjusted_frozen.amount, 0) as amount,
        coalesce(adjusted_rated.taxes_amount, 0) - coalesce(adjusted_frozen.taxes_amount, 0) as taxes_amount,
        coalesce(adjusted_rated.currency, adjusted_frozen.currency) as currency
    from adjusted_rated
    full outer join adjusted_frozen
        on adjusted_rated.line_id = adjusted_frozen.line_id
),

adjustment_lines as (
    select
        adjusted_invoice_id || '_adj' as invoice_id,
        line_id,
        fee_type,
        charge_id,
        billable_metric_code,
        cast(units as {{ tally.num_type() }}) as units,
        cast(events_count as bigint) as events_count,
        cast(case when units <> 0 then {{ tally.divide('amount', 'units') }} end as decimal(38, 12)) as unit_amount,
        cast(amount as {{ tally.money_type() }}) as amount,
        cast(taxes_amount as {{ tally.money_type() }}) as taxes_amount,
        currency
    from line_pairs
    where amount <> 0 or units <> 0 or events_count <> 0 or taxes_amount <> 0
),

final as (
    select {{ columns | join(', ') }} from published_rated
    union all
    select {{ columns | join(', ') }} from published_frozen
    union all
    select {{ columns | join(', ') }} from adjustment_lines
)

select * from final
