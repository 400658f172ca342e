-- The tiers behind each graduated, volume and graduated-percentage line of every billable
-- invoice: a closing invoice's usage charges (int_fee_tiers), the fixed charges of the invoice
-- that bills them (int_fixed_charge_tiers: closing, opening or a unit change's) and each instant
-- fee's tiers on its line (int_instant_fee_tiers, through int_instant_invoice_lines: an event's
-- invoice, or the closing one for a recurring charge's opening fee).
-- Tier amounts are unrounded (Lago's amount_details); the line carries the rounded fee: Σ a
-- line's tier amounts, rounded once half away from zero (0 when negative), is its amount.
with tiers as (
    select * from {{ ref('int_fee_tiers') }}
),

fixed_tiers as (
    select * from {{ ref('int_fixed_charge_tiers') }}
),

instant_tiers as (
    select * from {{ ref('int_instant_fee_tiers') }}
),

instant_lines as (
    select * from {{ ref('int_instant_invoice_lines') }}
),

-- the lines billed: a pay-in-advance charge has none on a closing invoice (int_instant_fees)
lines as (
    select * from {{ ref('int_invoice_lines') }}
    where fee_type in ('charge', 'fixed_charge')
),

invoices as (
    select * from {{ ref('int_invoices') }}
),

charge_tiers as (
    select
        invoices.invoice_id,
        invoices.invoice_id || ':' || tiers.charge_id || ':' || cast(tiers.filter_index as {{ dbt.type_string() }})
            || case when tiers.group_key = '' then '' else ':' || tiers.group_key end as line_id,
        tiers.tier_index,
        tiers.from_value,
        tiers.to_value,
        tiers.tier_units,
        tiers.per_unit_amount,
        tiers.rate,
        tiers.flat_amount,
        tiers.amount,
        invoices.currency
    from tiers
    inner join invoices
        on tiers.external_subscription_id = invoices.external_subscription_id
        and tiers.period_index = invoices.period_index
    where invoices.invoice_kind = 'closing'
),

fixed_charge_tiers as (
    select
        invoices.invoice_id,
        invoices.invoice_id || ':fixed_charge:' || fixed_tiers.fixed_charge_id as line_id,
        fixed_tiers.tier_index,
        fixed_tiers.from_value,
        fixed_tiers.to_value,
        fixed_tiers.tier_units,
        fixed_tiers.per_unit_amount,
        fixed_tiers.rate,
        fixed_tiers.flat_amount,
        fixed_tiers.amount,
        invoices.currency
    from fixed_tiers
    inner join invoices
        on fixed_tiers.external_subscription_id = invoices.external_subscription_id
        and fixed_tiers.invoice_period_index = invoices.period_index
        and fixed_tiers.invoice_kind = invoices.invoice_kind
        -- a unit change's fee is on the invoice of its day (int_add_on_lines)
        and (fixed_tiers.changed_on is null or fixed_tiers.changed_on = invoices.issuing_date)
),

instant_fee_tiers as (
    select
        instant_lines.invoice_id,
        instant_lines.invoice_id || ':' || instant_lines.line_key as line_id,
        instant_tiers.tier_index,
        instant_tiers.from_value,
        instant_tiers.to_value,
        instant_tiers.tier_units,
        instant_tiers.per_unit_amount,
        instant_tiers.rate,
        instant_tiers.flat_amount,
        instant_tiers.amount,
        instant_lines.currency
    from instant_tiers
    inner join instant_lines
        on instant_tiers.external_subscription_id = instant_lines.external_subscription_id
        and instant_tiers.period_index = instant_lines.period_index
        and instant_tiers.charge_id = instant_lines.charge_id
        and instant_tiers.filter_index = instant_lines.filter_index
        and instant_tiers.group_key = instant_lines.group_key
        and instant_tiers.ordinal = instant_lines.ordinal
),

all_tiers as (
    select * from charge_tiers
    union all
    select * from fixed_charge_tiers
    union all
    select * from instant_fee_tiers
),

final as (
    select
        all_tiers.invoice_id,
        all_tiers.line_id,
        cast(all_tiers.tier_index as integer) as tier_index,
        cast(all_tiers.from_value as {{ tally.num_type() }}) as from_value,
        cast(all_tiers.to_value as {{ tally.num_type() }}) as to_value,
        cast(all_tiers.tier_units as {{ tally.num_type() }}) as units,
        cast(all_tiers.per_unit_amount as {{ tally.num_type() }}) as per_unit_amount,
        cast(all_tiers.rate as {{ tally.num_type() }}) as rate,
        cast(all_tiers.flat_amount as {{ tally.num_type() }}) as flat_amount,
        cast(all_tiers.amount as decimal(38, 12)) as amount,
        all_tiers.currency
    from all_tiers
    where all_tiers.line_id in (select lines.line_id from lines)
)

select * from final
