-- billing.instant_fees: every fee of a pay-in-advance charge, one per event (int_instant_fees,
-- decision 23), pointing to its event (source_file, line_number as landed) and, when the charge
-- is invoiceable, to its invoice and line in billing.invoices / billing.invoice_lines; a fee of
-- a charge with invoiceable = false is recorded here with no invoice. A charge on a recurring
-- metric also has an opening fee per period (no event: event_at, source_file, line_number null;
-- usage_date the period's first day), on the invoice closing the period before.
with fees as (
    select * from {{ ref('int_instant_fees') }}
),

lines as (
    select * from {{ ref('int_instant_invoice_lines') }}
),

final as (
    select
        fees.external_customer_id,
        {{ tally.public_subscription_id('fees.external_subscription_id') }} as external_subscription_id,
        fees.charge_id,
        fees.billable_metric_code,
        cast(fees.filter_index as integer) as filter_index,
        fees.group_key,
        fees.event_at,
        fees.usage_date,
        fees.source_file,
        cast(fees.line_number as bigint) as line_number,
        cast(fees.units as {{ tally.num_type() }}) as units,
        cast(fees.precise_amount as {{ tally.num_type() }}) as precise_amount,
        cast(fees.amount as {{ tally.money_type() }}) as amount,
        fees.currency,
        fees.is_invoiceable as invoiceable,
        lines.invoice_id,
        lines.invoice_id || ':' || lines.line_key as line_id
    from fees
    left join lines
        on fees.external_subscription_id = lines.external_subscription_id
        and fees.period_index = lines.period_index
        and fees.charge_id = lines.charge_id
        and fees.filter_index = lines.filter_index
        and fees.group_key = lines.group_key
        and fees.ordinal = lines.ordinal
)

select * from final
