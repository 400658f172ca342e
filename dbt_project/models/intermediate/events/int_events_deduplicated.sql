{{ config(materialized='view') }}
-- Events that passed the landing rules, with their duplicate status, decided at landing
-- (orchestration/landing.py): transaction_id is unique per subscription (or per customer when
-- no subscription is sent); the first copy landed wins (load order, then line); a repeat with
-- the same content is ignored, one with different content is a conflicting duplicate
-- (quarantined downstream).
with events as (
    select * from {{ ref('stg_events') }}
    where rejection_reason is null
),

final as (
    select * from events
)

select * from final
