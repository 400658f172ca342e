-- The tiers behind each graduated, volume and graduated-percentage line of every billable
-- closing invoice. Tier amounts are unrounded (Lago's amount_details); the line carries the
-- rounded fee.
with tiers as (
    select * from {{ ref('int_fee_tiers') }}
),

-- the closing invoices' charge lines: a pay-in-advance charge has none (int_instant_fees)
lines as (
    select * from {{ ref('int_invoice_lines') }}
    where fee_type = 'charge'
),

invoices as (
    select * from {{ ref('int_invoices') }}
    where invoice_kind = 'closing'
),

final as (
    select
        invoices.invoice_id,
        invoices.invoice_id || ':' || tiers.charge_id || ':' || cast(tiers.filter_index as {{ dbt.type_string() }})
            || case when tiers.group_key = '' then '' else ':' || tiers.group_key end as line_id,
        cast(tiers.tier_index as integer) as tier_index,
        cast(tiers.from_value as {{ tally.num_type() }}) as from_value,
        cast(tiers.to_value as {{ tally.num_type() }}) as to_value,
        cast(tiers.tier_units as {{ tally.num_type() }}) as units,
        cast(tiers.per_unit_amount as {{ tally.num_type() }}) as per_unit_amount,
        cast(tiers.rate as {{ tally.num_type() }}) as rate,
        cast(tiers.flat_amount as {{ tally.num_type() }}) as flat_amount,
        cast(tiers.amount as decimal(38, 12)) as amount,
        invoices.currency
    from tiers
    inner join invoices
        on tiers.external_subscription_id = invoices.external_subscription_id
        and tiers.period_index = invoices.period_index
),

billed as (
    select final.*
    from final
    where final.line_id in (select lines.line_id from lines)
)

select * from billed
