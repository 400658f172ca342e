-- Progressive billing: every priced bucket state of the followed periods, exact where a
-- threshold can be crossed: the screen's states (int_progressive_priced_states), but on a
-- replayed day (int_progressive_replay_days) the screened buckets' states after each event
-- (int_progressive_replayed_states) in place of their day states. Read by
-- int_progressive_invoices (when a threshold is crossed) and int_progressive_fees (each
-- invoice's lines). A view: the rows are those of the two tables.
{{ config(materialized='view') }}
with screen_states as (
    select * from {{ ref('int_progressive_priced_states') }}
),

replay_days as (
    select * from {{ ref('int_progressive_replay_days') }}
),

replayed_states as (
    select * from {{ ref('int_progressive_replayed_states') }}
),

final as (
    select screen_states.*
    from screen_states
    left join replay_days
        on screen_states.external_subscription_id = replay_days.external_subscription_id
        and screen_states.period_index = replay_days.period_index
        and screen_states.event_day = replay_days.event_day
    where not screen_states.is_day_state
        or replay_days.event_day is null
    union all
    select * from replayed_states
)

select * from final
