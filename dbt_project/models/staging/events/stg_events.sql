-- One row per landed line or row, as orchestration/landing.py typed it once at landing: the
-- Lago fields, the instant (UTC), properties as JSON text, the first landing rule it breaks and
-- its duplicate status (first copy landed wins), and Lago's precise_total_amount_cents (dynamic
-- charges; minor units, decimal). A view: nothing here re-parses a payload.
with source as (
    select * from {{ source('raw', 'events') }}
),

final as (
    select
        load_sequence,
        source_file,
        file_checksum,
        line_number,
        payload,
        transaction_id,
        external_customer_id,
        external_subscription_id,
        billable_metric_code,
        event_timestamp,
        event_at,
        properties,
        precise_total_amount_cents,
        rejection_reason,
        rejection_detail,
        dedup_status,
        first_source_file,
        first_line_number
    from source
)

select * from final
