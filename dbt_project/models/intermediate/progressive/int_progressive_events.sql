-- Progressive billing: the events each followed period's meters see (as int_usage_by_period):
-- the period's own, and for a recurring metric every earlier one too (carried, is_in_period
-- false), with the charge's pricing and whether it is screened (int_progressive_charges; a
-- negative value can lower a sum's amount: such a subscription's charge is not screened).
-- Incremental by period: a build places the events of the periods it rates again only
-- (macros/incremental/periods_to_rate.sql).
-- depends_on: {{ ref('int_usage_daily') }}, {{ ref('int_unique_ids_daily') }}, {{ ref('int_billing_periods') }}
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    pre_hook="{{ tally.delete_periods_to_rate() }}",
    post_hook="{{ tally.save_rated_periods() }}",
) }}
with periods as (
    {{ tally.rows_to_rate(ref('int_progressive_periods')) }}
),

charges as (
    select * from {{ ref('int_progressive_charges') }}
),

charge_events as (
    select * from {{ ref('int_charge_events') }}
),

negative_charges as (
    select distinct external_subscription_id, charge_id
    from charge_events
    where event_value < 0
),

final as (
    select
        periods.external_subscription_id,
        periods.period_index,
        charge_events.charge_id,
        charge_events.filter_index,
        charge_events.group_key,
        charges.charge_model,
        charges.aggregation_type,
        charges.rounding_function,
        charges.rounding_precision,
        charges.is_screened and negative_charges.charge_id is null as is_screened,
        charge_events.event_at,
        {{ tally.progressive_day('charge_events.event_at') }} as event_day,
        charge_events.source_file,
        charge_events.line_number,
        charge_events.file_checksum,
        charge_events.event_value,
        charge_events.field_value_text,
        charge_events.operation_type = 'remove' as is_remove,
        charge_events.event_at >= periods.from_at as is_in_period
    from periods
    inner join charge_events
        on periods.external_subscription_id = charge_events.external_subscription_id
        and periods.to_at > charge_events.event_at
        and (charge_events.is_recurring or periods.from_at <= charge_events.event_at)
    inner join charges
        on charge_events.charge_id = charges.charge_id
    left join negative_charges
        on charge_events.external_subscription_id = negative_charges.external_subscription_id
        and charge_events.charge_id = negative_charges.charge_id
)

select * from final
