with source as (
    select * from {{ source('catalog', 'charge_tiers') }}
),

final as (
    select
        charge_id,
        filter_index,
        tier_index,
        {{ tally.to_num('from_value') }} as from_value,
        {{ tally.to_num('to_value') }} as to_value,
        {{ tally.to_num('per_unit_amount') }} as per_unit_amount,
        {{ tally.to_num('flat_amount') }} as flat_amount,
        {{ tally.to_num('rate') }} as rate
    from source
)

select * from final
