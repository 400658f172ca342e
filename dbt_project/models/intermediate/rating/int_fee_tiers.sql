-- Tier-by-tier amounts of every fee of a tier-priced charge model (the registry's priced_by: tiers).
{{ tally.fee_tiers(ref('int_usage_by_period'), ref('int_prorated_steps')) }}
