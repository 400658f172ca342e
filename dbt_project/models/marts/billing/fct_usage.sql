-- billing.usage: the meters by customer, subscription, metric, price bucket, pricing group
-- and local day (customer timezone), over every billable event: the daily meters as they are.
with daily as (
    select * from {{ ref('int_usage_daily') }}
),

buckets as (
    select * from {{ ref('stg_charge_buckets') }}
),

final as (
    select
        daily.external_customer_id,
        {{ tally.public_subscription_id('daily.external_subscription_id') }} as external_subscription_id,
        daily.billable_metric_code,
        daily.charge_id,
        cast(daily.filter_index as integer) as filter_index,
        coalesce(buckets.invoice_display_name, case when daily.filter_index = 0 then 'default' end) as filter_name,
        daily.group_key,
        daily.usage_date,
        cast(daily.events_count as bigint) as events_count,
        cast(daily.sum_value as {{ tally.num_type() }}) as total_value,
        cast(daily.distinct_values as bigint) as distinct_values
    from daily
    left join buckets
        on daily.charge_id = buckets.charge_id
        and daily.filter_index = buckets.filter_index
)

select * from final
