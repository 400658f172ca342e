-- Tier-by-tier amounts of every graduated, volume and graduated-percentage fee.
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

final as (
    {{ tally.charge_graduated('usage', 'buckets', 'tiers') }}
    union all
    {{ tally.charge_volume('usage', 'buckets', 'tiers') }}
    union all
    {{ tally.charge_graduated_percentage('usage', 'buckets', 'tiers') }}
)

select * from final
