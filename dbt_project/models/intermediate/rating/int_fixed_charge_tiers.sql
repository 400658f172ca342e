-- The tier rows of each graduated or volume fixed-charge fee (int_fixed_charge_fees), as a
-- usage charge's (int_fee_tiers): the same registry macro (price_tiers) on the same units,
-- ranges and buckets as the fee, so the tier amounts add up to its unrounded amount, which the
-- fee rounds once (Lago fees/fixed_charge_service.rb prices fixed charges with the charge
-- models' own services, whose amount_details these are).
with fees as (
    select
        *,
        -- a unit change's fee (priced alone) apart from its period's fee, as int_fixed_charge_fees
        coalesce({{ tally.date_key('changed_on') }}, '') as group_key
    from {{ ref('int_fixed_charge_fees') }}
    -- a unit change that bills nothing (a decrease) is not priced, so it has no tiers
    where not (invoice_kind = 'unit_change' and full_units <= 0)
),

-- the charge model registry's relations at the fee grain (one bucket, no filters or groups),
-- priced as int_fixed_charge_fees prices them (macros/rating/fixed_charge_prices.sql)
usage as (
    select
        external_subscription_id,
        service_period_index as period_index,
        fixed_charge_id as charge_id,
        0 as filter_index,
        group_key,
        charge_model,
        units,
        full_units
    from fees
),

tiers as (
    {{ tally.fixed_charge_price_tiers('null') }}
),

buckets as (
    {{ tally.fixed_charge_price_buckets() }}
),

tiered as (
    {{ tally.price_tiers('usage', 'buckets', 'tiers') }}
),

final as (
    select
        fees.external_subscription_id,
        fees.service_period_index,
        fees.invoice_period_index,
        fees.invoice_kind,
        fees.changed_on,
        fees.fixed_charge_id,
        cast(tiered.tier_index as integer) as tier_index,
        {{ tally.to_num('tiered.from_value') }} as from_value,
        {{ tally.to_num('tiered.to_value') }} as to_value,
        {{ tally.to_num('tiered.per_unit_amount') }} as per_unit_amount,
        {{ tally.to_num('tiered.rate') }} as rate,
        {{ tally.to_num('tiered.flat_amount') }} as flat_amount,
        {{ tally.to_num('tiered.tier_units') }} as tier_units,
        cast(tiered.amount as decimal(38, 12)) as amount,
        fees.currency
    from tiered
    inner join fees
        on tiered.external_subscription_id = fees.external_subscription_id
        and tiered.period_index = fees.service_period_index
        and tiered.charge_id = fees.fixed_charge_id
        and tiered.group_key = fees.group_key
)

select * from final
