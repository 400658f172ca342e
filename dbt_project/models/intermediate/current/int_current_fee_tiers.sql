-- The tier amounts of the open periods' tier-priced fees: int_fee_tiers' SQL (macros/rating/fee_tiers.sql).
{{ tally.fee_tiers(ref('int_current_usage_by_period'), ref('int_current_prorated_steps')) }}
