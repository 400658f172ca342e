-- Prepaid-credit wallets (Lago wallets), one currency each (the customer's). A wallet applies
-- by priority (1 first, 50 default), then catalog order; it expires at expires_at (UTC, a
-- bare date is 00:00 UTC of that day; null = never).
with source as (
    select * from {{ source('catalog', 'wallets') }}
),

final as (
    select
        wallet_id,
        external_customer_id,
        currency,
        {{ tally.to_num('rate_amount') }} as rate_amount,
        priority,
        {{ tally.utc_date_or_timestamp('expiration_at') }} as expires_at,
        line_number as wallet_order
    from source
)

select * from final
