-- Pay-in-advance (instant) charges (decision 23; Lago charges/apply_pay_in_advance_charge_model_
-- service.rb, events/pay_in_advance_aggregation): one fee per event of a pay_in_advance charge,
-- in its billed period, price bucket and pricing group, in event order:
--   - the billed level: the bucket's highest running units so far (each aggregation's running
--     form, macros/aggregations): a decrease is never refunded and what is billed again after it
--     is only what passes the highest level (Lago's cached_aggregations current/max); the fee's
--     units are the level's rise, or, when the level does not rise, the event's own increase
--     (Lago's units_applied: a unique id added again shows 1 unit for 0);
--   - units and tiers models (registry in_advance: units): price(level after) - price(level
--     before), both unrounded from the model's own macro, the difference rounded once to the
--     currency's minor unit; before the bucket's first unit the price is 0, so the first event
--     pays a graduated first tier's flat amount (Lago excludes the zero-units flat from the
--     "without this event" side);
--   - percentage (in_advance: events): Lago's model with the event minus without it, on the
--     running units (not the level); with a per-transaction min or max, the event priced alone
--     by Lago's per-transaction reduction (free amount, then free events; value x rate/100 +
--     fixed_amount clamped to [min, max]).
-- Metric rounding is not applied (Lago's per-event aggregation does not round). Incremental by
-- period (macros/incremental/periods_to_rate.sql): a build prices again only the periods new
-- events touch; a rerun gives the same rows.
-- depends_on: {{ ref('int_usage_daily') }}, {{ ref('int_unique_ids_daily') }}, {{ ref('int_billing_periods') }}
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    pre_hook="{{ tally.delete_periods_to_rate() }}",
    post_hook="{{ tally.save_rated_periods() }}",
) }}
{%- set bucket = tally.progressive_bucket() -%}
{%- set levels_bucket = 'levels.' ~ (bucket | replace(', ', ', levels.')) -%}
{%- set identity = bucket ~ ', charge_model, aggregation_type, event_at, usage_date, source_file, line_number, file_checksum' -%}
with periods as (
    select * from ({{ tally.rows_to_rate(ref('int_billing_periods')) }}) as to_rate
    where is_billable
),

charges as (
    select
        charges.charge_id,
        charges.charge_model,
        charges.billable_metric_code,
        charges.invoice_display_name,
        charges.is_invoiceable,
        charges.instant_invoice_grouping,
        metrics.aggregation_type
    from {{ ref('stg_charges') }} as charges
    inner join {{ ref('stg_billable_metrics') }} as metrics
        on charges.billable_metric_code = metrics.billable_metric_code
    where charges.pay_in_advance
),

buckets as (
    select * from {{ ref('stg_charge_buckets') }}
),

currencies as (
    select * from {{ ref('currencies') }}
),

-- the events of the pay_in_advance charges, each in its billed period (the running forms read
-- is_screened and is_in_period: every event here is a period's own)
events as (
    select
        periods.external_subscription_id,
        periods.period_index,
        charge_events.charge_id,
        charge_events.filter_index,
        charge_events.group_key,
        charges.charge_model,
        charges.aggregation_type,
        charge_events.event_at,
        charge_events.usage_date,
        charge_events.source_file,
        charge_events.line_number,
        charge_events.file_checksum,
        charge_events.event_value,
        charge_events.field_value_text,
        charge_events.operation_type = 'remove' as is_remove,
        false as is_screened,
        true as is_in_period
    from periods
    inner join {{ ref('int_charge_events') }} as charge_events
        on periods.external_subscription_id = charge_events.external_subscription_id
        and periods.from_at <= charge_events.event_at
        and periods.to_at > charge_events.event_at
    inner join charges
        on charge_events.charge_id = charges.charge_id
),

running as (
    {{ tally.aggregate_running('events', bucket, tally.progressive_event_order(), identity) }}
),

-- the billed level after and before each event: the highest running units so far (0 at least)
levels as (
    select
        *,
        greatest({{ tally.to_num('0') }}, max(units_after) over (
            partition by {{ bucket }} order by ordinal
            rows between unbounded preceding and current row
        )) as level_after,
        greatest({{ tally.to_num('0') }}, coalesce(max(units_after) over (
            partition by {{ bucket }} order by ordinal
            rows between unbounded preceding and 1 preceding
        ), 0)) as level_before
    from running
),

unit_states as (
    select charge_id, filter_index, charge_model, level_after as units, level_before as units_before
    from levels
),

{{ tally.progressive_prices('unit_states') }},

-- percentage (Lago percentage_service, applied with and without the event): t = the running
-- units after the event (Lago's running total: cumulative sums; a count's 1, 2, ...), n = its
-- rank. With a per-transaction min or max, the event priced alone (the per-transaction
-- reduction, macros/charge_models/percentage.sql); without, the model's amount after the event
-- minus before it, from free_value and free_events at n and n - 1 (percentage_model_amount).
transactions as (
    select
        levels.*,
        {{ tally.to_num('levels.units_after') }} as running_total,
        {{ tally.to_num('coalesce(levels.units_before, 0)') }} as total_before,
        {{ tally.to_num('levels.units_after - coalesce(levels.units_before, 0)') }} as value,
        levels.ordinal as event_rank,
        max(case when levels.ordinal = b.free_units_per_events then levels.units_after end) over (
            partition by {{ levels_bucket }}
        ) as free_events_total,
        sum(case when levels.units_after < b.free_units_per_total_aggregation then 1 else 0 end) over (
            partition by {{ levels_bucket }} order by levels.ordinal
            rows between unbounded preceding and current row
        ) as totals_below,
        b.free_units_per_events as free_events,
        b.free_units_per_total_aggregation as free_total,
        b.rate,
        b.fixed_amount,
        b.per_transaction_min_amount,
        b.per_transaction_max_amount
    from levels
    inner join buckets as b
        on levels.charge_id = b.charge_id
        and levels.filter_index = b.filter_index
    where {{ tally.is_priced_by('levels.charge_model', 'events') }}
),

event_amounts as (
    select
        {{ bucket }}, charged.ordinal,
        case
            when charged.per_transaction_min_amount is not null or charged.per_transaction_max_amount is not null
                then {{ tally.percentage_transaction('charged') }}
            else {{ tally.instant_percentage_amount('event_rank', 'running_total', 'totals_below') }}
                - {{ tally.instant_percentage_amount('event_rank - 1', 'total_before',
                    'totals_below - case when running_total < free_total then 1 else 0 end') }}
        end as amount
    from (
        select transactions.*, {{ tally.percentage_charged_value('transactions') }} as charged_value
        from transactions
    ) as charged
),

priced as (
    select
        levels.*,
        -- Lago's fee units: what passes the highest level, else the event's own change (0 at least:
        -- units_applied, shown on a fee that bills nothing)
        {{ tally.to_num('case when levels.units_after > levels.level_before then levels.level_after - levels.level_before '
            ~ 'when levels.units_after - coalesce(levels.units_before, 0) > 0 then levels.units_after - coalesce(levels.units_before, 0) '
            ~ 'else 0 end') }} as units,
        case
            when {{ tally.is_priced_by('levels.charge_model', 'events') }} then event_amounts.amount
            else coalesce(after_price.precise_amount, 0)
                - case when levels.level_before = 0 then 0 else coalesce(before_price.precise_amount, 0) end
        end as raw_amount
    from levels
    left join prices as after_price
        on levels.charge_id = after_price.charge_id
        and levels.filter_index = after_price.filter_index
        and levels.level_after = after_price.units
    left join prices as before_price
        on levels.charge_id = before_price.charge_id
        and levels.filter_index = before_price.filter_index
        and levels.level_before = before_price.units
    left join event_amounts
        on levels.external_subscription_id = event_amounts.external_subscription_id
        and levels.period_index = event_amounts.period_index
        and levels.charge_id = event_amounts.charge_id
        and levels.filter_index = event_amounts.filter_index
        and levels.group_key = event_amounts.group_key
        and levels.ordinal = event_amounts.ordinal
),

final as (
    select
        priced.external_subscription_id,
        priced.period_index,
        priced.charge_id,
        priced.filter_index,
        priced.group_key,
        cast(priced.ordinal as bigint) as ordinal,
        periods.external_customer_id,
        periods.currency,
        charges.billable_metric_code,
        priced.charge_model,
        coalesce(buckets.invoice_display_name, charges.invoice_display_name, charges.billable_metric_code)
            as display_name,
        charges.is_invoiceable,
        charges.instant_invoice_grouping,
        priced.event_at,
        priced.usage_date,
        priced.source_file,
        priced.line_number,
        priced.file_checksum,
        priced.units,
        -- the billed levels the fee is priced between (int_instant_fee_tiers: its tier rows)
        {{ tally.to_num('priced.level_before') }} as level_before,
        {{ tally.to_num('priced.level_after') }} as level_after,
        {{ tally.to_num('case when priced.raw_amount > 0 then priced.raw_amount else 0 end') }} as precise_amount,
        {{ tally.round_money('case when priced.raw_amount > 0 then priced.raw_amount else 0 end', 'currencies.minor_unit') }}
            as amount
    from priced
    inner join periods
        on priced.external_subscription_id = periods.external_subscription_id
        and priced.period_index = periods.period_index
    inner join charges
        on priced.charge_id = charges.charge_id
    inner join buckets
        on priced.charge_id = buckets.charge_id
        and priced.filter_index = buckets.filter_index
    inner join currencies
        on periods.currency = currencies.currency
)

select * from final
