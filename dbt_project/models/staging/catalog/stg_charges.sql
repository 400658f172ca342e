with source as (
    select * from {{ source('catalog', 'charges') }}
),

final as (
    select
        charge_id,
        plan_code,
        billable_metric_code,
        charge_model,
        pay_in_advance,
        {{ tally.to_num('min_amount') }} as min_amount,
        nullif(invoice_display_name, '') as invoice_display_name,
        pricing_group_key_1,
        pricing_group_key_2,
        pricing_group_key_3,
        coalesce(prorated, false) as is_prorated,
        coalesce(invoiceable, true) as is_invoiceable,
        coalesce(nullif(instant_invoice_grouping, ''), 'event') as instant_invoice_grouping
    from source
)

select * from final
