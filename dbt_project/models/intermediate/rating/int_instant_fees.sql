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
-- Recurring metrics (sum, unique count; registry `carried`): the running units start from what
-- the period opens with (every earlier local day, from the daily meters: macros/aggregations
-- `_carried`), so the level is the carried units and only what passes them is billed; each
-- rated period also gets one `opening` fee per price bucket and group: the units it closes at,
-- priced in full, the next period's in-advance fee that Lago's period-end run bills
-- (invoices/calculate_fees_service.rb create_charges_fees: in-advance charges of recurring
-- metrics; fees/charge_service.rb) on the invoice closing this period. A prorated charge
-- (standard only) prorates each event's rise of the level by the days left in the period.
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
{%- set identity = bucket ~ ', charge_model, aggregation_type, event_at, usage_date, source_file, line_number, file_checksum, is_in_period' -%}
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
        charges.is_prorated,
        metrics.is_recurring,
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

-- a recurring in-advance charge's daily meters and ids before each period's first local day:
-- what the period opens with (local days and periods share the customer's timezone)
carried_days as (
    select
        periods.period_index,
        charges.aggregation_type,
        daily.external_subscription_id,
        daily.charge_id,
        daily.filter_index,
        daily.group_key,
        daily.usage_date,
        daily.events_count,
        daily.sum_value,
        daily.latest_event_at
    from {{ ref('int_usage_daily') }} as daily
    inner join charges
        on daily.charge_id = charges.charge_id
        and charges.is_recurring
    inner join periods
        on daily.external_subscription_id = periods.external_subscription_id
        and daily.usage_date < periods.period_start
),

carried_ids as (
    select
        periods.period_index,
        charges.aggregation_type,
        ids.external_subscription_id,
        ids.charge_id,
        ids.filter_index,
        ids.group_key,
        ids.usage_date,
        ids.field_value_text,
        ids.last_operation,
        ids.last_event_at,
        ids.last_source_file,
        ids.last_line_number
    from {{ ref('int_unique_ids_daily') }} as ids
    inner join charges
        on ids.charge_id = charges.charge_id
        and charges.is_recurring
    inner join periods
        on ids.external_subscription_id = periods.external_subscription_id
        and ids.usage_date < periods.period_start
),

-- what each period opens with, as rows of the running form placed before its own events (each
-- aggregation's `_carried` form, macros/aggregations/_registry.sql)
carried as (
    {{ tally.aggregate_carried('carried_days', 'carried_ids') }}
),

window_events as (
    select * from events
    union all
    select
        carried.external_subscription_id,
        carried.period_index,
        carried.charge_id,
        carried.filter_index,
        carried.group_key,
        charges.charge_model,
        charges.aggregation_type,
        carried.event_at,
        carried.usage_date,
        carried.source_file,
        carried.line_number,
        carried.file_checksum,
        carried.event_value,
        carried.field_value_text,
        carried.is_remove,
        false as is_screened,
        false as is_in_period
    from carried
    inner join charges
        on carried.charge_id = charges.charge_id
),

running as (
    {{ tally.aggregate_running('window_events', bucket, tally.progressive_event_order(), identity) }}
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
        ), 0)) as level_before,
        max(ordinal) over (partition by {{ bucket }}) as last_ordinal
    from running
),

-- the period's own events (the carried rows only set the level they start from). A prorated
-- charge prices the rise of the level prorated by the days left in the period (Lago
-- prorated_aggregations/base_service.rb compute_pay_in_advance_aggregation: ceil((to_datetime −
-- timestamp) / 1 day), to_datetime the period's last instant, so the event's day counts; ÷ the
-- full period's days, charges_duration; the product ceiled to 5 decimals, `.ceil(5)`)
own_levels as (
    select
        levels.*,
        case when charges.is_prorated then {{ tally.to_num(tally.ceil_divide(
            '(levels.level_after - levels.level_before) * cast(' ~ tally.ceil_divide(
                tally.micros_between('levels.event_at', 'periods.to_at'), '86400000000') ~ ' as bigint) * 100000',
            'periods.full_period_days') ~ ' * cast(0.00001 as decimal(6, 5))') }}
        end as prorated_units
    from levels
    inner join periods
        on levels.external_subscription_id = periods.external_subscription_id
        and levels.period_index = periods.period_index
    inner join charges
        on levels.charge_id = charges.charge_id
    where levels.is_in_period
),

-- a recurring charge: the units each bucket closes the period at (its last row, carried or
-- own), billed in full for the next period on the invoice closing this one (Lago: "pay in
-- advance on billing date we always bill full amount", prorated_aggregations/*_service.rb);
-- a negative sum is 0 units (fees/charge_service.rb init_fee)
closing_units as (
    select
        levels.external_subscription_id,
        levels.period_index,
        levels.charge_id,
        levels.filter_index,
        levels.group_key,
        levels.charge_model,
        greatest({{ tally.to_num('0') }}, levels.units_after) as units
    from levels
    inner join charges
        on levels.charge_id = charges.charge_id
    where charges.is_recurring and levels.ordinal = levels.last_ordinal
),

-- the period after each one, billable or not (the next month's): what an opening fee covers
next_periods as (
    select
        external_subscription_id,
        period_index - 1 as period_index,
        period_index as service_period_index,
        period_start as service_period_start
    from {{ ref('int_billing_periods') }}
),

-- the events an opening fee counts: every one since the start (a recurring meter's count,
-- as int_usage_by_period's)
opening_counts as (
    select external_subscription_id, period_index, charge_id, filter_index, group_key, sum(events_count) as events_count
    from (
        select external_subscription_id, period_index, charge_id, filter_index, group_key, events_count
        from carried_days
        union all
        select events.external_subscription_id, events.period_index, events.charge_id, events.filter_index,
            events.group_key, cast(1 as bigint)
        from events
        inner join charges
            on events.charge_id = charges.charge_id
        where charges.is_recurring
    ) as counted
    group by 1, 2, 3, 4, 5
),

unit_states as (
    select charge_id, filter_index, charge_model, level_after as units, level_before as units_before
    from own_levels
    union all
    select charge_id, filter_index, charge_model, prorated_units, cast(null as {{ tally.num_type() }})
    from own_levels
    where prorated_units is not null
    union all
    select charge_id, filter_index, charge_model, units, cast(null as {{ tally.num_type() }})
    from closing_units
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
        -- units_applied, shown on a fee that bills nothing); a prorated fee shows them unprorated
        -- (apply_pay_in_advance_charge_model_service.rb compute_units: full_units_number)
        {{ tally.to_num('case when levels.units_after > levels.level_before then levels.level_after - levels.level_before '
            ~ 'when levels.units_after - coalesce(levels.units_before, 0) > 0 then levels.units_after - coalesce(levels.units_before, 0) '
            ~ 'else 0 end') }} as units,
        case
            when {{ tally.is_priced_by('levels.charge_model', 'events') }} then event_amounts.amount
            when levels.prorated_units is not null then coalesce(prorated_price.precise_amount, 0)
            else coalesce(after_price.precise_amount, 0)
                - case when levels.level_before = 0 then 0 else coalesce(before_price.precise_amount, 0) end
        end as raw_amount
    from own_levels as levels
    left join prices as prorated_price
        on levels.charge_id = prorated_price.charge_id
        and levels.filter_index = prorated_price.filter_index
        and levels.prorated_units = prorated_price.units
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

-- the opening fees: the closing units priced whole by the model, for the next period
opening_fees as (
    select
        closing_units.*,
        next_periods.service_period_index,
        next_periods.service_period_start,
        coalesce(opening_counts.events_count, 0) as events_count,
        coalesce(price.precise_amount, 0) as raw_amount
    from closing_units
    inner join next_periods
        on closing_units.external_subscription_id = next_periods.external_subscription_id
        and closing_units.period_index = next_periods.period_index
    left join opening_counts
        on {{ tally.grain_join('closing_units', 'opening_counts') }}
    left join prices as price
        on closing_units.charge_id = price.charge_id
        and closing_units.filter_index = price.filter_index
        and closing_units.units = price.units
),

fees as (
    select
        external_subscription_id,
        period_index,
        charge_id,
        filter_index,
        group_key,
        'event' as fee_kind,
        period_index as service_period_index,
        cast(ordinal - carried as bigint) as ordinal,
        charge_model,
        event_at,
        usage_date,
        source_file,
        line_number,
        file_checksum,
        cast(1 as bigint) as events_count,
        units,
        level_before,
        level_after,
        raw_amount
    from priced
    union all
    select
        external_subscription_id,
        period_index,
        charge_id,
        filter_index,
        group_key,
        'opening',
        service_period_index,
        cast(0 as bigint),
        charge_model,
        cast(null as timestamp),
        service_period_start,
        cast(null as {{ dbt.type_string() }}),
        cast(null as bigint),
        cast(null as {{ dbt.type_string() }}),
        cast(events_count as bigint),
        units,
        -- priced whole: from nothing to the closing units
        {{ tally.to_num('0') }},
        units,
        raw_amount
    from opening_fees
),

final as (
    select
        priced.external_subscription_id,
        priced.period_index,
        priced.charge_id,
        priced.filter_index,
        priced.group_key,
        priced.fee_kind,
        priced.service_period_index,
        priced.ordinal,
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
        priced.events_count,
        priced.units,
        -- the billed levels the fee is priced between (int_instant_fee_tiers: its tier rows)
        {{ tally.to_num('priced.level_before') }} as level_before,
        {{ tally.to_num('priced.level_after') }} as level_after,
        {{ tally.to_num('case when priced.raw_amount > 0 then priced.raw_amount else 0 end') }} as precise_amount,
        {{ tally.round_money('case when priced.raw_amount > 0 then priced.raw_amount else 0 end', 'currencies.minor_unit') }}
            as amount
    from fees as priced
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
