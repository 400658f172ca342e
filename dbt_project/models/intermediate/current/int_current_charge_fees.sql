-- The open periods' charge fees so far, rounded once as the closing invoice will round them:
-- int_charge_fees' SQL (macros/rating/charge_fees.sql), pay-in-advance charges included (their
-- fees so far, as Lago's current usage shows them; their invoices bill them event by event).
{{ tally.charge_fees(ref('int_current_usage_by_period'), 'select * from ' ~ ref('int_current_periods'),
    ref('int_current_fee_tiers'), in_advance_too=true) }}
