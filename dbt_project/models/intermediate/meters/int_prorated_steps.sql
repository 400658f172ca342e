-- Prorated charges (charges.csv `prorated = true`; Lago charge.prorated): per period, charge,
-- price bucket and pricing group, the steps of its meter in order, each `full_units` (+/−)
-- with the days it is active in the period (`active_days`) and its prorated units
-- full_units × active_days / full_period_days (Lago divides by the full period's days,
-- charges_duration). The fee's prorated units are their sum, ceiled to 5 decimals
-- (int_usage_by_period); prorated graduated walks them in order (macros/charge_models/
-- graduated.sql). One macro per aggregation (`_prorated`, registry key `prorated`). Read from
-- the daily meters, never from events; incremental by period like int_usage_by_period.
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    pre_hook="{{ tally.delete_periods_to_rate() }}",
    post_hook="{{ tally.save_rated_periods() }}",
) }}
{{ tally.prorated_steps(tally.billable_periods_to_rate()) }}
