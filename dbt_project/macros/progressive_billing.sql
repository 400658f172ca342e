{#- Progressive billing (Lago usage thresholds, reference §5): the state of every price bucket
    of a billable period after each of its events, in linear time.

    Emits CTEs (no leading `with`), shared by int_progressive_invoices and int_progressive_fees:
      pb_periods   billable periods of the subscriptions whose plan has usage thresholds
                   (only the periods of `period_filter`, a relation with
                   external_subscription_id and period_index, when given), with an integer
                   period_key;
      pb_states    one row per bucket state, as int_charge_fees would bill the bucket if the
                   period ended there:
                   - a start state (is_start) per bucket that exists at the period start: a
                     recurring bucket with units carried from earlier periods (its last
                     carried event), or, for a charge filter with nothing carried, its default
                     bucket (group_key '', is_default_start) at 0 units — a graduated
                     first-tier flat, a volume first-range flat. The default bucket goes away
                     at the filter's first event (int_usage_by_period's grid keeps it only for
                     a filter without events);
                   - an event state after each in-period event of the bucket.
                   Columns: the bucket, period_key, ordinal (the state's rank in its bucket and
                   period; 0 for a default start), is_start, is_default_start, event_at (of
                   the event; of the last carried one for a carried start), units (metric
                   rounding applied), events_count (carried events included, as
                   int_usage_by_period), precise_amount (negatives 0), amount (rounded to the
                   currency's minor unit) and previous_amount: the bucket's rounded amount
                   before the event (0 for a bucket's first state; a carried bucket's first
                   event starts from its carried amount).

    How, in linear time: per aggregation, window functions give the running units after each
    event — count: running count; sum: running sum (recurring: from the carried value);
    max: running max; latest: the event's value (negatives 0); unique_count: running sum of
    Lago's +1/-1/0 per-event contribution — and, in the same pass, the units before it. The
    charge models priced by units or tiers (the registry, macros/charge_models/_registry.sql)
    then price each distinct (charge, bucket, units) once; those priced by events, whose amount
    also depends on the events' order, give the amount after each event with their running
    form (default__charge_<name>_running).
    Events are ordered by (event_at, source_file, line_number, file_checksum), as
    int_usage_by_period picks the latest value.

    Left out of progressive billing: weighted_sum_agg charges (their usage grows with time
    elapsed, not with events). Every other aggregation and charge model is in. -#}
{% macro progressive_bucket_states(period_filter=none) -%}
{%- set bucket = 'period_key, charge_key, filter_index, group_key' -%}
{%- set event_order = 'event_at, source_file, line_number, file_checksum' -%}
pb_thresholds as (
    select * from {{ ref('stg_usage_thresholds') }}
),

pb_periods as (
    select
        periods.*,
        row_number() over (order by periods.external_subscription_id, periods.period_index) as period_key
    from {{ ref('int_billing_periods') }} as periods
    {%- if period_filter %}
    inner join {{ period_filter }} as period_filter
        on periods.external_subscription_id = period_filter.external_subscription_id
        and periods.period_index = period_filter.period_index
    {%- endif %}
    where periods.is_billable
        and periods.plan_code in (select plan_code from pb_thresholds)
),

pb_charges as (
    select
        charges.charge_id,
        row_number() over (order by charges.charge_id) as charge_key,
        charges.plan_code,
        charges.billable_metric_code,
        charges.charge_model,
        charges.invoice_display_name,
        metrics.aggregation_type,
        metrics.rounding_function,
        metrics.rounding_precision
    from {{ ref('stg_charges') }} as charges
    inner join {{ ref('stg_billable_metrics') }} as metrics
        on charges.billable_metric_code = metrics.billable_metric_code
    -- left out of progressive billing (see above)
    where metrics.aggregation_type <> 'weighted_sum_agg'
),

pb_buckets as (
    select * from {{ ref('stg_charge_buckets') }}
),

pb_tiers as (
    select
        *,
        lag(to_value) over (partition by charge_id, filter_index order by tier_index) as previous_to_value
    from {{ ref('stg_charge_tiers') }}
),

-- the events each period's meters see (as int_usage_by_period): the period's own, and for a
-- recurring metric every earlier one too (carried)
pb_windowed as (
    select
        pb_periods.period_key,
        pb_periods.external_subscription_id,
        pb_periods.period_index,
        pb_charges.charge_key,
        charge_events.charge_id,
        charge_events.filter_index,
        charge_events.group_key,
        pb_charges.charge_model,
        pb_charges.aggregation_type,
        pb_charges.rounding_function,
        pb_charges.rounding_precision,
        charge_events.event_at,
        charge_events.source_file,
        charge_events.line_number,
        charge_events.file_checksum,
        charge_events.event_value,
        charge_events.field_value_text,
        charge_events.operation_type = 'remove' as is_remove,
        charge_events.event_at >= pb_periods.from_at as is_in_period
    from pb_periods
    inner join {{ ref('int_charge_events') }} as charge_events
        on pb_periods.external_subscription_id = charge_events.external_subscription_id
        and charge_events.event_at < pb_periods.to_at
        and (charge_events.is_recurring or charge_events.event_at >= pb_periods.from_at)
    inner join pb_charges
        on charge_events.charge_id = pb_charges.charge_id
),

-- unique_count: each event adds +1 (add after a remove), -1 (remove after an add) or 0 (same
-- operation as the id's previous one; the first one is compared with `remove`): Lago's
-- operation_value. Their running sum = the ids whose last operation is `add`.
pb_unique_contributions as (
    select
        pb_windowed.*,
        case
            when is_remove = coalesce(lag(is_remove) over (
                partition by {{ bucket }}, field_value_text order by {{ event_order }}), true) then 0
            when is_remove then -1
            else 1
        end as contribution
    from pb_windowed
    where aggregation_type = 'unique_count_agg'
),

{%- set identity = 'period_key, external_subscription_id, period_index, charge_key, charge_id, filter_index, group_key, charge_model, rounding_function, rounding_precision, event_at, source_file, line_number, file_checksum, event_value, is_in_period' %}

-- running units after (units_after) and before (units_before, null for a bucket's first
-- event) each event, one window pass per aggregation; ordinal = rank in the bucket and period
-- (carried events first); carried = the bucket's carried events
pb_running as (
    select {{ identity }}, ordinal, 0 as carried,
        {{ tally.to_num('ordinal') }} as units_after,
        case when ordinal > 1 then {{ tally.to_num('ordinal - 1') }} end as units_before
    from (
        select pb_windowed.*, row_number() over (partition by {{ bucket }} order by {{ event_order }}) as ordinal
        from pb_windowed
        where aggregation_type = 'count_agg'
    ) as counted
    union all
    select {{ identity }}, ordinal, carried,
        {{ tally.to_num('coalesce(running_sum, 0)') }} as units_after,
        case when ordinal > 1 then {{ tally.to_num('coalesce(running_sum, 0) - coalesce(event_value, 0)') }} end as units_before
    from (
        select
            pb_windowed.*,
            row_number() over (partition by {{ bucket }} order by {{ event_order }}) as ordinal,
            sum(case when is_in_period then 0 else 1 end) over (partition by {{ bucket }}) as carried,
            sum(event_value) over (
                partition by {{ bucket }} order by {{ event_order }}
                rows between unbounded preceding and current row
            ) as running_sum
        from pb_windowed
        where aggregation_type = 'sum_agg'
    ) as summed
    union all
    select {{ identity }}, ordinal, 0 as carried,
        {{ tally.to_num('coalesce(running_max, 0)') }} as units_after,
        case when ordinal > 1 then {{ tally.to_num('coalesce(previous_max, 0)') }} end as units_before
    from (
        select
            pb_windowed.*,
            row_number() over (partition by {{ bucket }} order by {{ event_order }}) as ordinal,
            max(event_value) over (
                partition by {{ bucket }} order by {{ event_order }}
                rows between unbounded preceding and current row
            ) as running_max,
            max(event_value) over (
                partition by {{ bucket }} order by {{ event_order }}
                rows between unbounded preceding and 1 preceding
            ) as previous_max
        from pb_windowed
        where aggregation_type = 'max_agg'
    ) as maxed
    union all
    select {{ identity }}, ordinal, 0 as carried,
        {{ tally.to_num('case when event_value > 0 then event_value else 0 end') }} as units_after,
        case when ordinal > 1 then {{ tally.to_num('case when previous_value > 0 then previous_value else 0 end') }} end
            as units_before
    from (
        select
            pb_windowed.*,
            row_number() over (partition by {{ bucket }} order by {{ event_order }}) as ordinal,
            lag(event_value) over (partition by {{ bucket }} order by {{ event_order }}) as previous_value
        from pb_windowed
        where aggregation_type = 'latest_agg'
    ) as latest
    union all
    select {{ identity }}, ordinal, carried,
        {{ tally.to_num('running_unique') }} as units_after,
        case when ordinal > 1 then {{ tally.to_num('running_unique - contribution') }} end as units_before
    from (
        select
            pb_unique_contributions.*,
            row_number() over (partition by {{ bucket }} order by {{ event_order }}) as ordinal,
            sum(case when is_in_period then 0 else 1 end) over (partition by {{ bucket }}) as carried,
            sum(contribution) over (
                partition by {{ bucket }} order by {{ event_order }}
                rows between unbounded preceding and current row
            ) as running_unique
        from pb_unique_contributions
    ) as uniques
),

-- the bucket states: after each event of the period; at the start, a carried bucket (its
-- last carried event) and the default bucket of each charge filter with nothing carried
pb_unit_states as (
    select
        period_key, external_subscription_id, period_index, charge_key, charge_id, filter_index, group_key,
        charge_model,
        ordinal,
        not is_in_period as is_start,
        false as is_default_start,
        event_at, source_file, line_number, file_checksum, event_value,
        cast(ordinal as bigint) as events_count,
        {{ tally.apply_unit_rounding('units_after', 'rounding_function', 'rounding_precision') }} as units,
        {{ tally.apply_unit_rounding('units_before', 'rounding_function', 'rounding_precision') }} as units_before
    from pb_running
    where is_in_period or ordinal = carried
    union all
    select
        pb_periods.period_key, pb_periods.external_subscription_id, pb_periods.period_index,
        pb_charges.charge_key, pb_charges.charge_id, pb_buckets.filter_index, '' as group_key,
        pb_charges.charge_model,
        cast(0 as bigint) as ordinal,
        true as is_start,
        true as is_default_start,
        cast(null as timestamp) as event_at,
        cast(null as {{ dbt.type_string() }}) as source_file,
        cast(null as bigint) as line_number,
        cast(null as {{ dbt.type_string() }}) as file_checksum,
        {{ tally.to_num('null') }} as event_value,
        cast(0 as bigint) as events_count,
        {{ tally.to_num('0') }} as units,
        {{ tally.to_num('null') }} as units_before
    from pb_periods
    inner join pb_charges
        on pb_periods.plan_code = pb_charges.plan_code
    inner join pb_buckets
        on pb_charges.charge_id = pb_buckets.charge_id
    left join (
        select distinct period_key, charge_key, filter_index
        from pb_windowed
        where not is_in_period
    ) as carried
        on pb_periods.period_key = carried.period_key
        and pb_charges.charge_key = carried.charge_key
        and pb_buckets.filter_index = carried.filter_index
    where carried.charge_key is null
),

-- every distinct (charge, bucket, units) priced once by the charge-model macros, which work
-- at the fee grain: here one "fee" per units value, its key in the period_index column
pb_price_points as (
    select charge_id, filter_index, charge_model, units,
        row_number() over (order by charge_id, filter_index, units) as price_key
    from (
        select charge_id, filter_index, charge_model, units
        from pb_unit_states
        where not {{ tally.is_priced_by('charge_model', 'events') }}
        union
        select charge_id, filter_index, charge_model, units_before
        from pb_unit_states
        where not {{ tally.is_priced_by('charge_model', 'events') }} and units_before is not null
    ) as points
),

pb_price_usage as (
    select
        '' as external_subscription_id,
        price_key as period_index,
        charge_id,
        filter_index,
        '' as group_key,
        charge_model,
        units,
        cast(0 as bigint) as events_count
    from pb_price_points
),

pb_price_amounts as (
    select period_index as price_key, sum(amount) as amount
    from (
        {{ tally.price_fees(['units', 'tiers'], 'pb_price_usage', 'pb_buckets', 'pb_tiers') }}
    ) as priced
    group by 1
),

pb_prices as (
    select
        pb_price_points.charge_id,
        pb_price_points.filter_index,
        pb_price_points.units,
        {{ tally.to_num('case when pb_price_amounts.amount > 0 then pb_price_amounts.amount else 0 end') }}
            as precise_amount
    from pb_price_points
    left join pb_price_amounts
        on pb_price_points.price_key = pb_price_amounts.price_key
),

-- the event-priced models, event by event (their running forms, macros/charge_models)
pb_running_amounts as (
    {{ tally.price_running('pb_unit_states', 'pb_buckets', 'pb_charges', bucket) }}
),

pb_states as (
    select
        s.period_key,
        s.external_subscription_id,
        s.period_index,
        s.charge_key,
        s.charge_id,
        s.filter_index,
        s.group_key,
        s.ordinal,
        s.is_start,
        s.is_default_start,
        s.event_at,
        s.source_file,
        s.line_number,
        s.file_checksum,
        s.units,
        s.events_count,
        coalesce(after_price.precise_amount, running.precise_amount, {{ tally.to_num('0') }}) as precise_amount,
        {{ tally.round_money('coalesce(after_price.precise_amount, running.precise_amount, 0)', 'currencies.minor_unit') }}
            as amount,
        {{ tally.round_money('coalesce(before_price.precise_amount, running.previous_precise_amount, 0)', 'currencies.minor_unit') }}
            as previous_amount
    from pb_unit_states as s
    inner join pb_periods
        on s.period_key = pb_periods.period_key
    inner join {{ ref('currencies') }} as currencies
        on pb_periods.currency = currencies.currency
    left join pb_prices as after_price
        on not {{ tally.is_priced_by('s.charge_model', 'events') }}
        and s.charge_id = after_price.charge_id
        and s.filter_index = after_price.filter_index
        and s.units = after_price.units
    left join pb_prices as before_price
        on not {{ tally.is_priced_by('s.charge_model', 'events') }}
        and s.charge_id = before_price.charge_id
        and s.filter_index = before_price.filter_index
        and s.units_before = before_price.units
    left join pb_running_amounts as running
        on {{ tally.is_priced_by('s.charge_model', 'events') }}
        and s.period_key = running.period_key
        and s.charge_key = running.charge_key
        and s.filter_index = running.filter_index
        and s.group_key = running.group_key
        and s.ordinal = running.ordinal
)
{%- endmacro %}
