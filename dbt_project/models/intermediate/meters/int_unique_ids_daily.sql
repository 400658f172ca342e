{{ config(
    materialized='incremental',
    incremental_strategy=tally.replace_days_strategy(),
    unique_key=['external_subscription_id', 'usage_date'],
) }}
-- unique_count ids per subscription, charge, price bucket, pricing group and local day, with
-- the id's last operation of the day (add or remove) and its order key (event_at, file,
-- line): a period's unique count is the ids whose last operation up to its end is `add`
-- (int_usage_by_period). Incremental as int_usage_daily.
{%- set latest = ['event_at', 'source_file', 'line_number'] %}
with {{ tally.events_to_rate(ref('int_charge_events')) }},

final as (
    select
        external_subscription_id,
        usage_date,
        charge_id,
        filter_index,
        group_key,
        field_value_text,
        {{ tally.value_at_max('operation_type', latest) }} as last_operation,
        max(event_at) as last_event_at,
        {{ tally.value_at_max('source_file', latest) }} as last_source_file,
        {{ tally.value_at_max('line_number', latest) }} as last_line_number,
        max(load_sequence) as max_load_sequence
    from events_to_rate
    where {{ tally.is_aggregation('aggregation_type', 'ids') }}
    group by 1, 2, 3, 4, 5, 6
)

select * from final
