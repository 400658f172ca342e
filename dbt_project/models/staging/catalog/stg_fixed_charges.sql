-- Fixed charges (Lago fixed_charges): an add-on's contracted units billed every period of a
-- plan's subscriptions, with standard's amount (graduated and volume ranges: stg_fixed_charge_tiers).
with source as (
    select * from {{ source('catalog', 'fixed_charges') }}
),

final as (
    select
        fixed_charge_id,
        plan_code,
        add_on_code,
        charge_model,
        {{ tally.to_num('amount') }} as amount,
        {{ tally.to_num('units') }} as units,
        pay_in_advance,
        prorated,
        invoice_display_name as display_name
    from source
)

select * from final
