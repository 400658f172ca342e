-- The graduated or volume ranges of each fixed charge, in order.
with source as (
    select * from {{ source('catalog', 'fixed_charge_tiers') }}
),

final as (
    select
        fixed_charge_id,
        tier_index,
        {{ tally.to_num('from_value') }} as from_value,
        {{ tally.to_num('to_value') }} as to_value,
        {{ tally.to_num('per_unit_amount') }} as per_unit_amount,
        {{ tally.to_num('flat_amount') }} as flat_amount,
        is_adjacent
    from source
)

select * from final
