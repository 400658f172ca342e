-- The open period of every active subscription: its billing period holding `as_of`, the
-- latest event time landed (macros/rating/usage_as_of.sql). A subscription that ended before
-- it, or starts after it, has none. Periods reach as far as the run's horizon
-- (int_billing_periods): the refresh job's window is the current month, so it always holds
-- the open period; a `tally run` of earlier months only when its window reaches as_of.
with periods as (
    select * from {{ ref('int_billing_periods') }}
),

as_of as (
    select cast({{ tally.usage_as_of() }} as timestamp) as as_of
),

final as (
    select
        periods.*,
        as_of.as_of,
        -- the customer's day of as_of, as every billing date (Lago's projection counts days)
        cast({{ tally.utc_to_local('as_of.as_of', 'periods.timezone') }} as date) as as_of_on
    from periods
    cross join as_of
    where periods.from_at <= as_of.as_of
        and as_of.as_of < periods.to_at
)

select * from final
