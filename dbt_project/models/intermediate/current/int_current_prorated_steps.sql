-- The prorated steps of the open periods: int_prorated_steps' SQL (macros/rating/prorated_steps.sql).
{{ tally.prorated_steps('select * from ' ~ ref('int_current_periods')) }}
