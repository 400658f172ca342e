-- One row per landed line or row, parsed, with the first rule it breaks (if any).
with source as (
    select * from {{ source('raw', 'events') }}
),

parsed as (
    select
        source_file,
        file_checksum,
        line_number,
        payload,
        parse_error,
        nullif(trim(transaction_id), '') as transaction_id,
        nullif(trim(external_customer_id), '') as external_customer_id,
        nullif(trim(external_subscription_id), '') as external_subscription_id,
        nullif(trim(code), '') as billable_metric_code,
        nullif(trim(event_timestamp), '') as event_timestamp,
        {{ tally.parse_event_timestamp("nullif(trim(event_timestamp), '')") }} as event_at,
        coalesce(nullif(trim(properties), ''), '{}') as properties
    from source
),

final as (
    select
        *,
        case
            when parse_error = 'malformed_row' then 'malformed_row'
            when parse_error is not null then 'malformed_json'
            when transaction_id is null or billable_metric_code is null or event_timestamp is null
                or (external_customer_id is null and external_subscription_id is null)
                then 'missing_field'
            when not {{ tally.is_json_object('properties') }} then 'malformed_json'
            when event_at is null then 'bad_timestamp'
        end as rejection_reason,
        case
            when parse_error = 'malformed_row' then 'The CSV row could not be split into columns.'
            when parse_error is not null then 'The line is not a JSON object.'
            when transaction_id is null then 'Required field transaction_id is missing.'
            when billable_metric_code is null then 'Required field code is missing.'
            when event_timestamp is null then 'Required field timestamp is missing.'
            when external_customer_id is null and external_subscription_id is null
                then 'One of external_customer_id and external_subscription_id is required.'
            when not {{ tally.is_json_object('properties') }} then 'properties is not a JSON object.'
            when event_at is null
                then 'Timestamp ' || event_timestamp || ' is neither ISO-8601 nor Unix seconds.'
        end as rejection_detail
    from parsed
)

select * from final
