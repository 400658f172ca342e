-- The open periods' charge fees so far, rounded once as the closing invoice will round them:
-- int_charge_fees' SQL (macros/rating/charge_fees.sql).
{{ tally.charge_fees(ref('int_current_usage_by_period'), 'select * from ' ~ ref('int_current_periods'),
    ref('int_current_fee_tiers')) }}
