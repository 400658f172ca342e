-- Add-ons (Lago add_ons): a code, the price of one unit on a one-off invoice, in one currency.
with source as (
    select * from {{ source('catalog', 'add_ons') }}
),

final as (
    select
        add_on_code,
        name as add_on_name,
        {{ tally.to_num('amount') }} as amount,
        currency,
        nullif(invoice_display_name, '') as invoice_display_name
    from source
)

select * from final
