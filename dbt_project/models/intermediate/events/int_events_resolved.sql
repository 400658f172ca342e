{{ config(materialized='view') }}
-- Every accepted event resolved (macros/rating/resolved_events.sql): for people and ad-hoc
-- queries; the rating state models apply the same macro to the events they add.
{{ tally.resolved_events() }}
