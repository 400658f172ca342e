-- The tax codes of each charge (the `tax_codes` column of charges.csv), one row per code.
with source as (
    select * from {{ source('catalog', 'charge_taxes') }}
),

final as (
    select
        charge_id,
        tax_code
    from source
)

select * from final
