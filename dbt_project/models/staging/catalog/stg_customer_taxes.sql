-- The tax codes of each customer (the `tax_codes` column of customers.csv), one row per code.
with source as (
    select * from {{ source('catalog', 'customer_taxes') }}
),

final as (
    select
        external_customer_id,
        tax_code
    from source
)

select * from final
