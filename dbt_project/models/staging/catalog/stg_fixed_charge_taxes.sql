-- The tax codes of each fixed charge (the `tax_codes` column of fixed_charges.csv), one row per code.
with source as (
    select * from {{ source('catalog', 'fixed_charge_taxes') }}
),

final as (
    select
        fixed_charge_id,
        tax_code
    from source
)

select * from final
