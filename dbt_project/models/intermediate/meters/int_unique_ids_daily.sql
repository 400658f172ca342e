{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key=['external_subscription_id', 'usage_date'],
) }}
-- unique_count ids per subscription, charge, price bucket, pricing group and local day, with
-- the id's last operation of the day (add or remove) and its order key (event_at, file,
-- line): a period's unique count is the ids whose last operation up to its end is `add`
-- (int_usage_by_period). Incremental as int_usage_daily.
with {{ tally.events_to_rate(ref('int_charge_events')) }},

ranked as (
    select
        events_to_rate.*,
        row_number() over (
            partition by external_subscription_id, charge_id, filter_index, group_key, usage_date, field_value_text
            order by event_at desc, source_file desc, line_number desc
        ) as recency_rank,
        max(load_sequence) over (
            partition by external_subscription_id, charge_id, filter_index, group_key, usage_date, field_value_text
        ) as max_load_sequence
    from events_to_rate
    where aggregation_type = 'unique_count_agg'
),

final as (
    select
        external_subscription_id,
        usage_date,
        charge_id,
        filter_index,
        group_key,
        field_value_text,
        operation_type as last_operation,
        event_at as last_event_at,
        source_file as last_source_file,
        line_number as last_line_number,
        max_load_sequence
    from ranked
    where recency_rank = 1
)

select * from final
