-- billing.quarantined_events: every landed line that cannot be billed, with a stable reason
-- code, a sentence for people and the original payload. Nothing is dropped silently.
with rejected_at_parse as (
    select source_file, line_number, transaction_id, rejection_reason as reason, rejection_detail as detail, payload
    from {{ ref('stg_events') }}
    where rejection_reason is not null
),

conflicting as (
    select
        source_file, line_number, transaction_id,
        'conflicting_duplicate' as reason,
        'transaction_id ' || transaction_id || ' was first seen in ' || first_source_file || ' line '
            || cast(first_line_number as {{ dbt.type_string() }}) || ' with different content.' as detail,
        payload
    from {{ ref('int_events_deduplicated') }}
    where dedup_status = 'conflicting_duplicate'
),

unresolved as (
    select source_file, line_number, transaction_id, rejection_reason as reason, rejection_detail as detail, payload
    from {{ ref('int_events_unresolved') }}
),

final as (
    select
        cast(source_file as {{ dbt.type_string() }}) as source_file,
        cast(line_number as bigint) as line_number,
        cast(transaction_id as {{ dbt.type_string() }}) as transaction_id,
        cast(reason as {{ dbt.type_string() }}) as reason,
        cast(detail as {{ dbt.type_string() }}) as detail,
        cast(payload as {{ dbt.type_string() }}) as payload
    from (
        select * from rejected_at_parse
        union all
        select * from conflicting
        union all
        select * from unresolved
    ) as all_rejections
)

select * from final
