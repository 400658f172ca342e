-- billing.usage: the meters by customer, subscription, metric, price bucket, pricing group
-- and local day (customer timezone), over every billable event.
with events as (
    select * from {{ ref('int_charge_events') }}
),

customers as (
    select * from {{ ref('stg_customers') }}
),

buckets as (
    select * from {{ ref('stg_charge_buckets') }}
),

final as (
    select
        events.external_customer_id,
        events.external_subscription_id,
        events.billable_metric_code,
        events.charge_id,
        cast(events.filter_index as integer) as filter_index,
        coalesce(buckets.invoice_display_name, case when events.filter_index = 0 then 'default' end) as filter_name,
        events.group_key,
        cast({{ tally.utc_to_local('events.event_at', 'customers.timezone') }} as date) as usage_date,
        cast(count(*) as bigint) as events_count,
        cast(sum(events.event_value) as {{ tally.num_type() }}) as total_value,
        cast(count(distinct events.field_value_text) as bigint) as distinct_values
    from events
    inner join customers
        on events.external_customer_id = customers.external_customer_id
    left join buckets
        on events.charge_id = buckets.charge_id
        and events.filter_index = buckets.filter_index
    group by 1, 2, 3, 4, 5, 6, 7, 8
)

select * from final
