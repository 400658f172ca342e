-- One-off invoices (Lago invoices of type one_off): one add-on billed once on a local day, with
-- the add-on's amount unless the row gives unit_amount (the validator fills it in).
with source as (
    select * from {{ source('catalog', 'one_off_invoices') }}
),

final as (
    select
        external_customer_id,
        add_on_code,
        {{ tally.to_num('units') }} as units,
        {{ tally.to_num('unit_amount') }} as unit_amount,
        cast(issuing_date as date) as issuing_date,
        invoice_display_name as display_name,
        line_number
    from source
)

select * from final
