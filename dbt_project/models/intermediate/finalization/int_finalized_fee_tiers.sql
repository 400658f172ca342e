-- The tier breakdown of invoices frozen by `tally finalize`.
{{ tally.finalized_or_empty('fee_tiers', ref('int_fee_tiers_rated'), tally.fee_tier_columns()) }}
