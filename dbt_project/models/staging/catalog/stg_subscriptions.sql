-- Subscription dates become instants (UTC) and local dates (customer timezone). A date-only
-- started_at/ending_at is a local calendar date; ending_at is inclusive (the whole day).
-- Rows sharing an external_id are a plan change (decision 34): each segment is rated as a
-- subscription of its own, keyed external_subscription_id = the external_id for the first
-- segment and `<external_id>@<start yyyymmdd>` for a later one, and published under
-- public_subscription_id (the external_id) by the marts.
with source as (
    select * from {{ source('catalog', 'subscriptions') }}
),

customers as (
    select * from {{ ref('stg_customers') }}
),

bounds as (
    select
        source.external_id as public_subscription_id,
        source.external_customer_id,
        source.plan_code,
        coalesce(nullif(source.billing_time, ''), 'calendar') as billing_time,
        customers.timezone,
        case when length(source.started_at) = 10
            then {{ tally.local_to_utc("cast(source.started_at as timestamp)", "customers.timezone") }}
            else {{ tally.parse_event_timestamp("source.started_at") }}
        end as started_at,
        case
            when source.ending_at is null then null
            when length(source.ending_at) = 10
                then {{ tally.local_to_utc(dbt.dateadd('day', 1, "cast(source.ending_at as timestamp)"), "customers.timezone") }}
            else {{ tally.parse_event_timestamp("source.ending_at") }}
        end as ended_at
    from source
    inner join customers
        on source.external_customer_id = customers.external_customer_id
),

dated as (
    select
        *,
        cast({{ tally.utc_to_local('started_at', 'timezone') }} as date) as started_on,
        -- last local day with service (inclusive), from the exclusive end instant
        cast({{ tally.utc_to_local(dbt.dateadd('microsecond', -1, 'ended_at'), 'timezone') }} as date) as ending_on,
        row_number() over (partition by public_subscription_id order by started_at) as segment_number,
        count(*) over (partition by public_subscription_id) as segment_count
    from bounds
),

final as (
    select
        case when segment_number = 1 then public_subscription_id
            else public_subscription_id || '@' || {{ tally.date_key('started_on') }}
        end as external_subscription_id,
        *
    from dated
)

select * from final
