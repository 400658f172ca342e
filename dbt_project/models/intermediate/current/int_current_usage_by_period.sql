-- The meters of the open periods so far: int_usage_by_period's SQL
-- (macros/rating/usage_by_period.sql) over int_current_periods, so units and events are
-- exactly what the invoice closing the period will meter if nothing more lands.
{{ tally.usage_by_period('select * from ' ~ ref('int_current_periods'), ref('int_current_prorated_steps')) }}
