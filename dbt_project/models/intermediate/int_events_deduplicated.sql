-- transaction_id is unique per subscription (or per customer when no subscription is sent).
-- First seen wins, files in name order; a repeat with the same content is ignored, a repeat
-- with different content is a conflicting duplicate (quarantined downstream).
with events as (
    select * from {{ ref('stg_events') }}
    where rejection_reason is null
),

keyed as (
    select
        *,
        coalesce('sub:' || external_subscription_id, 'cus:' || external_customer_id) as idempotency_scope,
        {{ tally.fingerprint(dbt.concat([
            "coalesce(external_customer_id, '')", "'|'",
            "coalesce(external_subscription_id, '')", "'|'",
            "billable_metric_code", "'|'",
            dbt.cast("event_at", api.Column.translate_type("string")), "'|'",
            tally.normalize_json("properties")
        ])) }} as content_fingerprint
    from events
),

ranked as (
    select
        *,
        row_number() over (
            partition by idempotency_scope, transaction_id
            order by source_file, file_checksum, line_number
        ) as seen_rank,
        first_value(content_fingerprint) over (
            partition by idempotency_scope, transaction_id
            order by source_file, file_checksum, line_number
            rows between unbounded preceding and current row
        ) as first_fingerprint,
        first_value(source_file) over (
            partition by idempotency_scope, transaction_id
            order by source_file, file_checksum, line_number
            rows between unbounded preceding and current row
        ) as first_source_file,
        first_value(line_number) over (
            partition by idempotency_scope, transaction_id
            order by source_file, file_checksum, line_number
            rows between unbounded preceding and current row
        ) as first_line_number
    from keyed
),

final as (
    select
        *,
        case
            when seen_rank = 1 then 'accepted'
            when content_fingerprint = first_fingerprint then 'duplicate'
            else 'conflicting_duplicate'
        end as dedup_status
    from ranked
)

select * from final
