-- The tax codes of each plan (the `tax_codes` column of plans.csv), one row per code.
with source as (
    select * from {{ source('catalog', 'plan_taxes') }}
),

final as (
    select
        plan_code,
        tax_code
    from source
)

select * from final
