-- The meters: units and events per billed period, charge, price bucket and pricing group,
-- with Lago's semantics for each aggregation (reference §2), one macro per aggregation
-- (macros/aggregations/<name>.sql, registered in dbt_project.yml `aggregations`).
-- Recurring metrics (sum, unique_count, weighted_sum) see every event since the start of the
-- subscription, so their value carries across periods.
-- Read from the daily meters (int_usage_daily, int_unique_ids_daily), never from events.
-- Incremental by period: a build rates only the periods that new events or changed period
-- definitions touch, and the periods after them (macros/incremental/periods_to_rate.sql).
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    pre_hook="{{ tally.delete_periods_to_rate() }}",
    post_hook="{{ tally.save_rated_periods() }}",
) }}
{{ tally.usage_by_period(tally.billable_periods_to_rate(), ref('int_prorated_steps')) }}
