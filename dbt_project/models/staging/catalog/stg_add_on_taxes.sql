-- The tax codes of each add-on (the `tax_codes` column of add_ons.csv), one row per code.
with source as (
    select * from {{ source('catalog', 'add_on_taxes') }}
),

final as (
    select
        add_on_code,
        tax_code
    from source
)

select * from final
