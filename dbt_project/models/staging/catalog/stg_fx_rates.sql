-- Exchange rates to the reporting currency, per date: for revenue reporting only (invoices
-- stay in the plan's currency).
with source as (
    select * from {{ source('catalog', 'fx_rates') }}
),

final as (
    select
        cast(rate_date as date) as rate_date,
        currency,
        {{ tally.to_num('rate') }} as rate
    from source
)

select * from final
