{{ config(materialized='incremental', incremental_strategy='append') }}
-- depends_on: {{ ref('int_unique_ids_daily') }}
-- Accepted events that no subscription, customer or metric can bill (the rejections of
-- macros/rating/resolved_events.sql), kept as state: each build adds those of the events landed since the rating
-- watermark (macros/incremental/events_to_rate.sql) and never rescans history. A catalog
-- change drops the table and every event is resolved again (orchestration/rating_state.py).
with resolved as (
    select * from (
        {{ tally.resolved_events('load_sequence > ' ~ tally.rating_watermark() if is_incremental() else 'true') }}
    ) as resolved_events
    where rejection_reason is not null
    {%- if is_incremental() %}
        -- a batch re-read because it left the daily meters unchanged adds nothing twice
        and not exists (
            select 1 from {{ this }} as kept
            where kept.source_file = resolved_events.source_file
                and kept.file_checksum = resolved_events.file_checksum
                and kept.line_number = resolved_events.line_number
        )
    {%- endif %}
),

final as (
    select
        load_sequence,
        source_file,
        file_checksum,
        line_number,
        transaction_id,
        payload,
        rejection_reason,
        rejection_detail
    from resolved
)

select * from final
