-- The per-line differences of each adjustment (int_invoice_adjustments), both kinds: the
-- re-rated invoice's lines against the frozen invoice's lines plus the line differences of its
-- adjustments frozen since (int_finalized_adjustment_lines), by the adjusted invoice's own line
-- ids; only lines whose amount, units, full units, events or taxes changed (the full units'
-- difference is null when the frozen side has none recorded: int_finalized_invoice_lines).
-- fct_invoice_lines publishes those of adjustment invoices; `tally finalize` freezes them all
-- with their round.
with adjustments as (
    select * from {{ ref('int_invoice_adjustments') }}
),

rated as (
    select * from {{ ref('int_invoice_lines_rated') }}
    where invoice_id in (select invoice_id from adjustments)
),

-- the frozen lines and the frozen rounds' line differences, summed per line
frozen as (
    select
        invoice_id,
        line_id,
        max(fee_type) as fee_type,
        max(charge_id) as charge_id,
        max(billable_metric_code) as billable_metric_code,
        sum(units) as units,
        -- unknown when one frozen row of the line has none (frozen before the column existed)
        case when count(full_units) = count(*) then sum(full_units) end as full_units,
        sum(events_count) as events_count,
        sum(amount) as amount,
        sum(taxes_amount) as taxes_amount,
        max(currency) as currency
    from (
        select invoice_id, line_id, fee_type, charge_id, billable_metric_code, units, full_units, events_count,
            amount, taxes_amount, currency
        from {{ ref('int_finalized_invoice_lines') }}
        where invoice_id in (select invoice_id from adjustments)
        union all
        select adjusted_invoice_id, line_id, fee_type, charge_id, billable_metric_code, units, full_units,
            events_count, amount, taxes_amount, currency
        from {{ ref('int_finalized_adjustment_lines') }}
        where adjusted_invoice_id in (select invoice_id from adjustments)
    ) as frozen_rows
    group by 1, 2
),

line_pairs as (
    select
        coalesce(rated.invoice_id, frozen.invoice_id) as adjusted_invoice_id,
        coalesce(rated.line_id, frozen.line_id) as line_id,
        coalesce(rated.fee_type, frozen.fee_type) as fee_type,
        coalesce(rated.charge_id, frozen.charge_id) as charge_id,
        coalesce(rated.billable_metric_code, frozen.billable_metric_code) as billable_metric_code,
        coalesce(rated.units, 0) - coalesce(frozen.units, 0) as units,
        case when frozen.line_id is null or frozen.full_units is not null
            then coalesce(rated.full_units, 0) - coalesce(frozen.full_units, 0) end as full_units,
        coalesce(rated.events_count, 0) - coalesce(frozen.events_count, 0) as events_count,
        coalesce(rated.amount, 0) - coalesce(frozen.amount, 0) as amount,
        coalesce(rated.taxes_amount, 0) - coalesce(frozen.taxes_amount, 0) as taxes_amount,
        coalesce(rated.currency, frozen.currency) as currency
    from rated
    full outer join frozen
        on rated.invoice_id = frozen.invoice_id
        and rated.line_id = frozen.line_id
),

final as (
    select
        line_pairs.adjusted_invoice_id,
        adjustments.adjustment_round,
        adjustments.adjustment_kind,
        line_pairs.line_id,
        line_pairs.fee_type,
        line_pairs.charge_id,
        line_pairs.billable_metric_code,
        cast(line_pairs.units as {{ tally.num_type() }}) as units,
        cast(line_pairs.events_count as bigint) as events_count,
        cast(line_pairs.amount as {{ tally.money_type() }}) as amount,
        cast(line_pairs.taxes_amount as {{ tally.money_type() }}) as taxes_amount,
        line_pairs.currency,
        cast(line_pairs.full_units as {{ tally.num_type() }}) as full_units
    from line_pairs
    inner join adjustments
        on line_pairs.adjusted_invoice_id = adjustments.invoice_id
    where line_pairs.amount <> 0 or line_pairs.units <> 0 or line_pairs.events_count <> 0
        or line_pairs.taxes_amount <> 0 or line_pairs.full_units <> 0
)

select * from final
