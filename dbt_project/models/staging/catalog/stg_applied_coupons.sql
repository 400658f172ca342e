-- Coupons applied to customers, at applied_at (UTC; a bare date is 00:00 UTC). Lago applies a
-- customer's coupons in the order they were applied: applied_order is the catalog row.
with source as (
    select * from {{ source('catalog', 'applied_coupons') }}
),

final as (
    select
        coupon_code,
        external_customer_id,
        {{ tally.utc_date_or_timestamp('applied_at') }} as applied_at,
        line_number as applied_order
    from source
)

select * from final
