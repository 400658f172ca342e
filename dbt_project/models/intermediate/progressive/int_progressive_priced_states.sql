-- Progressive billing, the screen priced: every state of int_progressive_unit_states with its
-- bucket's amount, as int_charge_fees would bill the bucket if the period ended there:
-- precise_amount (negatives 0), amount (rounded to the currency's minor unit) and
-- previous_amount (the bucket's rounded amount at its previous state; 0 at its first, so that a
-- carried bucket's first event starts from its carried amount). Every distinct (charge, bucket,
-- units) is priced once (macros/progressive/prices.sql); models priced by events give the
-- amount after each event with their running form (default__charge_<name>_running), which also
-- reads the carried events (a percentage's free running totals, decision 18).
-- Incremental by period (macros/incremental/periods_to_rate.sql).
-- depends_on: {{ ref('int_usage_daily') }}, {{ ref('int_unique_ids_daily') }}, {{ ref('int_billing_periods') }}
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    pre_hook="{{ tally.delete_periods_to_rate() }}",
    post_hook="{{ tally.save_rated_periods() }}",
) }}
{%- set bucket = tally.progressive_bucket() -%}
with unit_states as (
    {{ tally.rows_to_rate(ref('int_progressive_unit_states')) }}
),

events as (
    {{ tally.rows_to_rate(ref('int_progressive_events')) }}
),

periods as (
    {{ tally.rows_to_rate(ref('int_progressive_periods')) }}
),

charges as (
    select * from {{ ref('int_progressive_charges') }}
),

buckets as (
    select * from {{ ref('stg_charge_buckets') }}
),

-- the carried events of the charges priced event by event, ranked as their running units
-- (carried events first): a percentage's free running totals read them
carried_events as (
    select
        {{ bucket }}, charge_model, event_value,
        row_number() over (partition by {{ bucket }} order by {{ tally.progressive_event_order() }}) as ordinal
    from events
    where not is_in_period
        and {{ tally.is_priced_by('charge_model', 'events') }}
),

{{ tally.progressive_prices('unit_states') }},

running_amounts as (
    {{ tally.price_running('unit_states', 'buckets', 'charges', bucket, 'carried_events') }}
),

final as (
    {{ tally.progressive_priced_states('unit_states', 'running_amounts') }}
)

select * from final
