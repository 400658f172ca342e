-- A subscription's units of a fixed charge from a local day on (fixed_charge_units.csv; Lago's
-- fixed charge events when units are overridden or changed).
with source as (
    select * from {{ source('catalog', 'fixed_charge_units') }}
),

final as (
    select
        external_subscription_id,
        fixed_charge_id,
        {{ tally.to_num('units') }} as units,
        cast(effective_on as date) as effective_on,
        line_number
    from source
)

select * from final
