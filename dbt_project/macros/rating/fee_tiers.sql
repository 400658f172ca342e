{#- Tier-by-tier amounts of the fees of tier-priced charge models, from the meters `usage` and
    the prorated steps `steps` of the same periods: one body for the billed periods
    (int_fee_tiers) and the open ones (int_current_fee_tiers). -#}
{% macro fee_tiers(usage, steps) -%}
with usage as (
    select * from {{ usage }}
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
    select * from {{ steps }}
),

final as (
    {{ tally.price_tiers('usage', 'buckets', 'tiers', 'steps') }}
)

select * from final
{%- endmacro %}
