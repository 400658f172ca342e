with source as (
    select * from {{ source('catalog', 'customers') }}
),

final as (
    select
        external_id as external_customer_id,
        name as customer_name,
        currency,
        coalesce(nullif(timezone, ''), 'UTC') as timezone,
        tax_codes
    from source
)

select * from final
