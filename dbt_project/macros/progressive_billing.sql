{#- Progressive billing (Lago usage thresholds, reference §5): the state of every price bucket
    of a billable period over time, as int_charge_fees would bill the bucket if the period
    ended there. Used by int_progressive_invoices and int_progressive_fees in three steps:

      progressive_inputs(period_filter)   CTEs pb_*: the periods (only those of `period_filter`,
                                          a relation of external_subscription_id, period_index,
                                          when given), charges, buckets, tiers, the events each
                                          period's meters see, and their day meters;
      progressive_unit_states(name, replay_days)
                                          CTE `name`: the bucket states with their units;
      progressive_priced_states(prefix, unit_states)
                                          CTE `<prefix>_states`: the same, priced.

    A bucket state:
      - a start state (is_start) per bucket that exists at the period start: a recurring bucket
        with units carried from earlier periods (its last carried event), or, for a charge
        filter with nothing carried, its default bucket (group_key '', is_default_start) at 0
        units — a graduated first-tier flat, a volume first-range flat. The default bucket goes
        away at the filter's first event (int_usage_by_period's grid keeps it only for a filter
        without events);
      - after each in-period event of the bucket, or, where a whole day can be taken in one
        step, after the bucket's last event of the (period, UTC day) — a day state.
    Columns: the bucket, period_key, ordinal (the rank in its bucket and period of the state's
    event, carried events included; 0 for a default start), is_start, is_default_start,
    event_at (of the event; of the day's last one for a day state; of the last carried one for
    a carried start), units (metric rounding applied), events_count (carried events included,
    as int_usage_by_period), precise_amount (negatives 0), amount (rounded to the currency's
    minor unit) and previous_amount: the bucket's rounded amount at its previous state (0 for
    a bucket's first state; a carried bucket's first event starts from its carried amount).

    Day states (the screen). A charge is screened when its aggregation (count, sum, max) never
    lowers units, its charge model's amount never falls as units grow (registry `monotone`)
    and the subscription never sent it a negative value. Within a day every screened bucket's
    amount then only rises, so the period's usage amount at any instant of
    the day lies between the day's opening and closing amounts: a threshold can only be
    crossed in the day when a level lies between the highest amount reached before it and its
    closing amount. Only such days (`replay_days`: period_key, event_day) are replayed event
    by event, starting from the day's opening units (the day meters before it); every other
    day is one state per bucket. Charges that are not screened (aggregations not `screened`,
    such as latest and unique counts; models not `monotone`, such as volume and those priced
    by events) are replayed event by event, in linear time: each aggregation's running form
    (macros/aggregations) gives the running units after each event and before it.
    Events are ordered by (event_at, source_file, line_number, file_checksum), as
    int_usage_by_period picks the latest value.

    Left out of progressive billing: the aggregations without a running form (registry: a
    weighted sum grows with time elapsed, not with events). Every charge model is in. -#}

{%- macro pb_bucket() %}period_key, charge_key, filter_index, group_key{% endmacro -%}
{%- macro pb_event_order() %}event_at, source_file, line_number, file_checksum{% endmacro -%}
{%- macro pb_day(column) %}cast({{ column }} as date){% endmacro -%}

{% macro progressive_inputs(period_filter=none) -%}
{%- set bucket = tally.pb_bucket() -%}
{%- set event_order = tally.pb_event_order() -%}
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
        metrics.rounding_precision,
        {{ tally.is_aggregation('metrics.aggregation_type', 'screened') }}
            and {{ tally.is_monotone('charges.charge_model') }} as is_screened
    from {{ ref('stg_charges') }} as charges
    inner join {{ ref('stg_billable_metrics') }} as metrics
        on charges.billable_metric_code = metrics.billable_metric_code
    -- left out of progressive billing: aggregations without a running form (see above)
    where {{ tally.is_aggregation('metrics.aggregation_type', 'running') }}
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

-- a negative value can lower a sum's amount: such a (subscription, charge) is not screened
pb_negative as (
    select distinct external_subscription_id, charge_id
    from {{ ref('int_charge_events') }}
    where event_value < 0
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
        pb_charges.is_screened and pb_negative.charge_id is null as is_screened,
        charge_events.event_at,
        {{ tally.pb_day('charge_events.event_at') }} as event_day,
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
    left join pb_negative
        on charge_events.external_subscription_id = pb_negative.external_subscription_id
        and charge_events.charge_id = pb_negative.charge_id
),

-- the carried events of the charges priced event by event, ranked as in pb_running (carried
-- events come first): a percentage's free running totals read them (charge_percentage_running)
pb_carried_events as (
    select
        period_key, charge_key, charge_id, filter_index, group_key, charge_model, event_value,
        row_number() over (partition by {{ bucket }} order by {{ event_order }}) as ordinal
    from pb_windowed
    where not is_in_period
        and {{ tally.is_priced_by('charge_model', 'events') }}
),

-- (period, charge, filter)s with carried events: they have no default start
pb_carried as (
    select distinct period_key, charge_key, filter_index
    from pb_windowed
    where not is_in_period
),

{%- set identity = 'period_key, external_subscription_id, period_index, charge_key, charge_id, filter_index, group_key, charge_model, rounding_function, rounding_precision' %}

-- screened charges, per bucket and UTC day of the period: the day's events, and the meters
-- before the day (carried events included: a bucket's ordinal counts them)
-- screened charges' carried events (recurring metrics), per bucket: counted in the ordinal,
-- and the start state of an aggregation that carries its units
pb_carried_meters as (
    select
        {{ identity }}, aggregation_type,
        count(*) as events_count,
        sum(event_value) as sum_value,
        max(event_value) as max_value,
        max(event_at) as event_at
    from pb_windowed
    where is_screened and not is_in_period
    group by {{ identity }}, aggregation_type
),

pb_day_meters as (
    select
        joined.*,
        coalesce(carried_count, 0) + coalesce(sum(day_count) over (
            partition by {{ bucket }} order by event_day
            rows between unbounded preceding and 1 preceding
        ), 0) as count_before,
        coalesce(carried_sum, 0) + coalesce(sum(day_sum) over (
            partition by {{ bucket }} order by event_day
            rows between unbounded preceding and 1 preceding
        ), 0) as sum_before,
        greatest(carried_max, max(day_max) over (
            partition by {{ bucket }} order by event_day
            rows between unbounded preceding and 1 preceding
        )) as max_before
    from (
        select
            days.*,
            carried.events_count as carried_count,
            carried.sum_value as carried_sum,
            carried.max_value as carried_max
        from (
            select
                {{ identity }}, aggregation_type, event_day,
                count(*) as day_count,
                sum(event_value) as day_sum,
                max(event_value) as day_max,
                max(event_at) as last_event_at
            from pb_windowed
            where is_screened and is_in_period
            group by {{ identity }}, aggregation_type, event_day
        ) as days
        left join pb_carried_meters as carried
            on days.period_key = carried.period_key
            and days.charge_key = carried.charge_key
            and days.filter_index = carried.filter_index
            and days.group_key = carried.group_key
    ) as joined
),

-- charges not screened, event by event: running units after (units_after) and before
-- (units_before, null for a bucket's first event) each event, one window pass per
-- aggregation (its running form); ordinal = rank in the bucket and period (carried events
-- first); carried = the bucket's carried events
pb_running as (
    {{ tally.aggregate_running('pb_windowed', bucket, event_order,
        identity ~ ', event_at, source_file, line_number, file_checksum, event_value, is_in_period') }}
),

-- the states that do not depend on the screen: every state of the charges not screened
-- (after each event of the period; a carried bucket's start at its last carried event), the
-- carried starts of screened sums, and the default bucket of each charge filter with nothing
-- carried
pb_fixed_states as (
    select
        {{ identity }},
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
        {{ identity }},
        cast(events_count as bigint) as ordinal,
        true as is_start,
        false as is_default_start,
        event_at,
        cast(null as {{ dbt.type_string() }}) as source_file,
        cast(null as bigint) as line_number,
        cast(null as {{ dbt.type_string() }}) as file_checksum,
        {{ tally.to_num('null') }} as event_value,
        cast(events_count as bigint) as events_count,
        {{ tally.apply_unit_rounding(tally.screened_units('events_count', 'coalesce(sum_value, 0)', 'max_value'),
            'rounding_function', 'rounding_precision') }} as units,
        {{ tally.to_num('null') }} as units_before
    from pb_carried_meters
    where {{ tally.is_aggregation('aggregation_type', 'recurring') }}
    union all
    select
        pb_periods.period_key, pb_periods.external_subscription_id, pb_periods.period_index,
        pb_charges.charge_key, pb_charges.charge_id, pb_buckets.filter_index, '' as group_key,
        pb_charges.charge_model, pb_charges.rounding_function, pb_charges.rounding_precision,
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
    left join pb_carried as carried
        on pb_periods.period_key = carried.period_key
        and pb_charges.charge_key = carried.charge_key
        and pb_buckets.filter_index = carried.filter_index
    where carried.charge_key is null
)
{%- endmacro %}

{#- CTE `name`: pb_fixed_states and the screened charges' states: event by event on the
    (period_key, event_day) of `replay_days` (a relation; none: no day is replayed), one day
    state per bucket on every other day. Units after a state and before it (the previous
    state's), per aggregation, from the day's opening meters. -#}
{% macro progressive_unit_states(name, replay_days=none) -%}
{%- set bucket = tally.pb_bucket() -%}
{%- set identity = 'period_key, external_subscription_id, period_index, charge_key, charge_id, filter_index, group_key, charge_model, rounding_function, rounding_precision' %}
{%- set m_identity = 'meters.' ~ (identity | replace(', ', ', meters.')) %}
{%- set m_bucket = 'meters.' ~ (bucket | replace(', ', ', meters.')) %}
{%- set e_order = 'events.event_at, events.source_file, events.line_number, events.file_checksum' %}
-- a screened state's units after it (units_after) and at the bucket's previous state
-- (units_before; null for the bucket's first state): a replayed day's events from the day's
-- opening meters, and one state per bucket on every other day (after its last event)
{{ name }}_screened as (
    {%- if replay_days %}
    select
        {{ identity }}, ordinal,
        event_at, source_file, line_number, file_checksum, event_value,
        {{ tally.screened_units('ordinal', 'sum_before + coalesce(running_sum, 0)', 'greatest(max_before, running_max)') }}
            as units_after,
        case when ordinal > 1 then
            {{ tally.screened_units('ordinal - 1', 'sum_before + coalesce(running_sum, 0) - coalesce(event_value, 0)',
                'greatest(max_before, previous_max)') }}
        end as units_before
    from (
        select
            {{ m_identity }},
            meters.aggregation_type,
            meters.count_before + row_number() over (
                partition by {{ m_bucket }}, meters.event_day order by {{ e_order }}
            ) as ordinal,
            meters.sum_before,
            meters.max_before,
            events.event_at, events.source_file, events.line_number, events.file_checksum, events.event_value,
            sum(events.event_value) over (
                partition by {{ m_bucket }}, meters.event_day order by {{ e_order }}
                rows between unbounded preceding and current row
            ) as running_sum,
            max(events.event_value) over (
                partition by {{ m_bucket }}, meters.event_day order by {{ e_order }}
                rows between unbounded preceding and current row
            ) as running_max,
            max(events.event_value) over (
                partition by {{ m_bucket }}, meters.event_day order by {{ e_order }}
                rows between unbounded preceding and 1 preceding
            ) as previous_max
        from {{ replay_days }} as replay_days
        inner join pb_day_meters as meters
            on replay_days.period_key = meters.period_key
            and replay_days.event_day = meters.event_day
        inner join pb_windowed as events
            on meters.period_key = events.period_key
            and meters.charge_key = events.charge_key
            and meters.filter_index = events.filter_index
            and meters.group_key = events.group_key
            and meters.event_day = events.event_day
            and events.is_in_period
    ) as replayed
    union all
    {%- endif %}
    select
        {{ identity }},
        count_before + day_count as ordinal,
        last_event_at as event_at,
        cast(null as {{ dbt.type_string() }}) as source_file,
        cast(null as bigint) as line_number,
        cast(null as {{ dbt.type_string() }}) as file_checksum,
        {{ tally.to_num('null') }} as event_value,
        {{ tally.screened_units('count_before + day_count', 'sum_before + coalesce(day_sum, 0)', 'greatest(max_before, day_max)') }}
            as units_after,
        case when count_before > 0 then
            {{ tally.screened_units('count_before', 'sum_before', 'max_before') }}
        end as units_before
    from pb_day_meters
    {%- if replay_days %}
    where not exists (
        select 1 from {{ replay_days }} as replay_days
        where replay_days.period_key = pb_day_meters.period_key
            and replay_days.event_day = pb_day_meters.event_day
    )
    {%- endif %}
),

{{ name }} as (
    select * from pb_fixed_states
    union all
    select
        {{ identity }},
        ordinal,
        false as is_start,
        false as is_default_start,
        event_at, source_file, line_number, file_checksum, event_value,
        cast(ordinal as bigint) as events_count,
        {{ tally.apply_unit_rounding('units_after', 'rounding_function', 'rounding_precision') }} as units,
        {{ tally.apply_unit_rounding('units_before', 'rounding_function', 'rounding_precision') }} as units_before
    from {{ name }}_screened
)
{%- endmacro %}

{#- CTE `<prefix>_states`: the states of `unit_states` priced. Every distinct (charge, bucket,
    units) is priced once by the charge-model macros, which work at the fee grain: here one
    "fee" per units value, its key in the period_index column; models priced by events give
    the amount after each event with their running form (default__charge_<name>_running). -#}
{% macro progressive_priced_states(prefix, unit_states) -%}
{%- set bucket = tally.pb_bucket() -%}
{{ prefix }}_price_points as (
    select charge_id, filter_index, charge_model, units,
        row_number() over (order by charge_id, filter_index, units) as price_key
    from (
        select charge_id, filter_index, charge_model, units
        from {{ unit_states }}
        where not {{ tally.is_priced_by('charge_model', 'events') }}
        union
        select charge_id, filter_index, charge_model, units_before
        from {{ unit_states }}
        where not {{ tally.is_priced_by('charge_model', 'events') }} and units_before is not null
    ) as points
),

{{ prefix }}_price_usage as (
    select
        '' as external_subscription_id,
        price_key as period_index,
        charge_id,
        filter_index,
        '' as group_key,
        charge_model,
        units,
        cast(0 as bigint) as events_count
    from {{ prefix }}_price_points
),

{{ prefix }}_price_amounts as (
    select period_index as price_key, sum(amount) as amount
    from (
        {{ tally.price_fees(['units', 'tiers'], prefix ~ '_price_usage', 'pb_buckets', 'pb_tiers') }}
    ) as priced
    group by 1
),

{{ prefix }}_prices as (
    select
        points.charge_id,
        points.filter_index,
        points.units,
        {{ tally.to_num('case when amounts.amount > 0 then amounts.amount else 0 end') }} as precise_amount
    from {{ prefix }}_price_points as points
    left join {{ prefix }}_price_amounts as amounts
        on points.price_key = amounts.price_key
),

-- the event-priced models, event by event (their running forms, macros/charge_models)
{{ prefix }}_running_amounts as (
    {{ tally.price_running(unit_states, 'pb_buckets', 'pb_charges', bucket, 'pb_carried_events') }}
),

{{ prefix }}_states as (
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
    from {{ unit_states }} as s
    inner join pb_periods
        on s.period_key = pb_periods.period_key
    inner join {{ ref('currencies') }} as currencies
        on pb_periods.currency = currencies.currency
    left join {{ prefix }}_prices as after_price
        on not {{ tally.is_priced_by('s.charge_model', 'events') }}
        and s.charge_id = after_price.charge_id
        and s.filter_index = after_price.filter_index
        and s.units = after_price.units
    left join {{ prefix }}_prices as before_price
        on not {{ tally.is_priced_by('s.charge_model', 'events') }}
        and s.charge_id = before_price.charge_id
        and s.filter_index = before_price.filter_index
        and s.units_before = before_price.units
    left join {{ prefix }}_running_amounts as running
        on {{ tally.is_priced_by('s.charge_model', 'events') }}
        and s.period_key = running.period_key
        and s.charge_key = running.charge_key
        and s.filter_index = running.filter_index
        and s.group_key = running.group_key
        and s.ordinal = running.ordinal
)
{%- endmacro %}

{#- CTEs `<prefix>_changes`, `<prefix>_steps`, `<prefix>_lifetime`: the period's usage amount
    C(t) over time from `states` (see int_progressive_invoices), one step per timestamp, and the
    lifetime usage H + C after each step; `earlier_fees` gives H per period_key. -#}
{% macro progressive_lifetime(prefix, states) -%}
-- the changes of the period's usage amount: at each state, the bucket's new rounded amount
-- minus its previous one; at a charge filter's first state, minus its default bucket's (the
-- 0-unit start, replaced by the event's own bucket); and the period's start amount (buckets
-- at the period start), counted at its first event, as Lago checks usage when events arrive
{{ prefix }}_changes as (
    select period_key, event_at, amount - previous_amount as delta
    from {{ states }}
    where not is_start
    union all
    select firsts.period_key, firsts.first_event_at, -default_starts.amount
    from (
        select period_key, charge_key, filter_index, min(event_at) as first_event_at
        from {{ states }}
        where not is_start
        group by 1, 2, 3
    ) as firsts
    inner join {{ states }} as default_starts
        on firsts.period_key = default_starts.period_key
        and firsts.charge_key = default_starts.charge_key
        and firsts.filter_index = default_starts.filter_index
        and default_starts.is_default_start
    union all
    select starts.period_key, firsts.first_event_at, starts.start_amount
    from (
        select period_key, sum(amount) as start_amount
        from {{ states }}
        where is_start
        group by 1
    ) as starts
    inner join (
        select period_key, min(event_at) as first_event_at
        from {{ states }}
        where not is_start
        group by 1
    ) as firsts
        on starts.period_key = firsts.period_key
),

-- one step per timestamp (events at the same instant are evaluated together); a step that
-- changes nothing cannot cross a level, and is left out
{{ prefix }}_steps as (
    select period_key, event_at, sum(delta) as delta
    from {{ prefix }}_changes
    group by 1, 2
    having sum(delta) <> 0
),

{{ prefix }}_lifetime as (
    select
        steps.period_key,
        steps.event_at,
        earlier_fees.historical_amount,
        sum(steps.delta) over (
            partition by steps.period_key
            order by steps.event_at
            rows between unbounded preceding and current row
        ) as usage_amount
    from {{ prefix }}_steps as steps
    inner join earlier_fees
        on steps.period_key = earlier_fees.period_key
)
{%- endmacro %}
