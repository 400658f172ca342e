-- Coupon templates (Lago coupons): amount is set for fixed_amount coupons only,
-- percentage_rate (percent) for percentage coupons only; frequency_duration (periods) for
-- recurring coupons only.
with source as (
    select * from {{ source('catalog', 'coupons') }}
),

final as (
    select
        coupon_code,
        coupon_type,
        {{ tally.to_num('amount') }} as amount,
        {{ tally.to_num('percentage_rate') }} as percentage_rate,
        frequency,
        frequency_duration
    from source
)

select * from final
