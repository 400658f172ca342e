-- Taxes (Lago taxes): rate in percent (0..100).
with source as (
    select * from {{ source('catalog', 'taxes') }}
),

final as (
    select
        tax_code,
        name as tax_name,
        {{ tally.to_num('rate') }} as rate,
        applied_by_default
    from source
)

select * from final
