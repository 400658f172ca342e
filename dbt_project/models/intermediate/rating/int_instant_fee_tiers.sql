-- The tier rows of each pay-in-advance (instant) fee of a tier-priced charge model (graduated,
-- graduated_percentage; volume is refused in advance): the fee is price(level after) −
-- price(level before) (int_instant_fees), so its tiers are the tiers of the price after minus
-- those of the price before, tier by tier: the units the event's rise adds to each tier and
-- their amount, and a tier's flat amount on the fee that enters it. As the fee, the side before
-- the bucket's first unit is nothing (the first event pays a graduated first tier's flat).
-- Σ tier amounts = the fee's unrounded amount, which int_instant_fees rounds once (Lago
-- charges/apply_pay_in_advance_charge_model_service.rb; its amount_details are the model's
-- with the event minus without it). Tiers the rise leaves unchanged have no row.
with fees as (
    select * from {{ ref('int_instant_fees') }}
    where {{ tally.is_priced_by('charge_model', 'tiers') }}
),

buckets as (
    select * from {{ ref('stg_charge_buckets') }}
),

price_tiers as (
    select
        *,
        lag(to_value) over (partition by charge_id, filter_index order by tier_index) as previous_to_value
    from {{ ref('stg_charge_tiers') }}
),

-- every level a fee is priced at, priced once (as progressive_prices: one "fee" per level, its
-- key in the period_index column)
price_points as (
    select
        charge_id,
        filter_index,
        charge_model,
        units,
        row_number() over (order by charge_id, filter_index, units) as price_key
    from (
        select charge_id, filter_index, charge_model, level_after as units
        from fees
        union
        select charge_id, filter_index, charge_model, level_before
        from fees
        where level_before > 0
    ) as points
),

price_usage as (
    select
        '' as external_subscription_id,
        price_key as period_index,
        charge_id,
        filter_index,
        '' as group_key,
        charge_model,
        units
    from price_points
),

point_tiers as (
    select
        points.charge_id,
        points.filter_index,
        points.units,
        tiered.tier_index,
        tiered.from_value,
        tiered.to_value,
        tiered.per_unit_amount,
        tiered.flat_amount,
        tiered.rate,
        tiered.tier_units,
        tiered.amount
    from ({{ tally.price_tiers('price_usage', 'buckets', 'price_tiers') }}) as tiered
    inner join price_points as points
        on tiered.period_index = points.price_key
),

-- the tiers at the level after (+) and at the level before (−), per fee
signed as (
    select
        fees.external_subscription_id, fees.period_index, fees.charge_id, fees.filter_index, fees.group_key,
        fees.ordinal, fees.currency, 1 as side,
        after_tiers.tier_index, after_tiers.from_value, after_tiers.to_value, after_tiers.per_unit_amount,
        after_tiers.rate, after_tiers.flat_amount, after_tiers.tier_units, after_tiers.amount
    from fees
    inner join point_tiers as after_tiers
        on fees.charge_id = after_tiers.charge_id
        and fees.filter_index = after_tiers.filter_index
        and fees.level_after = after_tiers.units
    union all
    select
        fees.external_subscription_id, fees.period_index, fees.charge_id, fees.filter_index, fees.group_key,
        fees.ordinal, fees.currency, -1,
        before_tiers.tier_index, before_tiers.from_value, before_tiers.to_value, before_tiers.per_unit_amount,
        before_tiers.rate, before_tiers.flat_amount, before_tiers.tier_units, before_tiers.amount
    from fees
    inner join point_tiers as before_tiers
        on fees.charge_id = before_tiers.charge_id
        and fees.filter_index = before_tiers.filter_index
        and fees.level_before = before_tiers.units
    where fees.level_before > 0
),

differences as (
    select
        external_subscription_id,
        period_index,
        charge_id,
        filter_index,
        group_key,
        ordinal,
        tier_index,
        max(currency) as currency,
        max(from_value) as from_value,
        max(to_value) as to_value,
        max(per_unit_amount) as per_unit_amount,
        max(rate) as rate,
        -- the flat of a tier entered by this fee (both sides hold it otherwise)
        sum(side * flat_amount) as flat_amount,
        sum(side * tier_units) as tier_units,
        sum(side * amount) as amount
    from signed
    group by 1, 2, 3, 4, 5, 6, 7
),

final as (
    select
        external_subscription_id,
        period_index,
        charge_id,
        filter_index,
        group_key,
        cast(ordinal as bigint) as ordinal,
        cast(tier_index as integer) as tier_index,
        {{ tally.to_num('from_value') }} as from_value,
        {{ tally.to_num('to_value') }} as to_value,
        {{ tally.to_num('per_unit_amount') }} as per_unit_amount,
        {{ tally.to_num('rate') }} as rate,
        {{ tally.to_num('flat_amount') }} as flat_amount,
        {{ tally.to_num('tier_units') }} as tier_units,
        cast(amount as decimal(38, 12)) as amount,
        currency
    from differences
    where tier_units <> 0 or amount <> 0
)

select * from final
