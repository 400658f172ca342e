-- Tier-by-tier amounts of every fee of a tier-priced charge model (the registry's priced_by: tiers).
with usage as (
    select * from {{ ref('int_usage_by_period') }}
),

buckets as (
    select * from {{ ref('stg_charge_buckets') }}
),

tiers as (
    select
        *,
        lag(to_value) over (partition by charge_id, filter_index order by tier_index) as previous_to_value
    from {{ ref('stg_charge_tiers') }}
),

-- the prorated steps of prorated charges (prorated graduated walks them)
steps as (
    select * from {{ ref('int_prorated_steps') }}
),

final as (
    {{ tally.price_tiers('usage', 'buckets', 'tiers', 'steps') }}
)

select * from final
