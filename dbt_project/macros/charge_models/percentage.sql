{#- percentage (Lago percentage_service), `rate` in percent:
      (units − free_value) × rate/100 + (events − free_events) × fixed_amount
    free_value/free_events come from Lago's running total (the aggregation services'
    `running_total`, registry key `running_total`):
      - `values` (sum): the cumulative sums of the events in time order, over the same window as
        the units and the events count (Lago's event store drops the period's lower bound for a
        recurring metric: every event since the start). The first free_units_per_events
        events, else the events until the total passes free_units_per_total_aggregation: Lago
        stops at the first event that finds the total so far above it, so the crossing event
        is in;
      - `count` (count, unique_count): 1, 2, …, units, whole (not cut at the free units), so a
        free_units_per_events below the units is the free value outright.
    With a per-transaction min or max, each event OF THE PERIOD is priced alone (Lago's
    per-event aggregation forces the period's lower bound, recurring metric or not): free
    events and free amount first, then value × rate/100 + fixed_amount clamped to [min, max],
    summed.
    `events`: each event of the event-priced charges once, with the billed period it falls in
    (period_index), is_recurring and aggregation_type. -#}
{% macro default__charge_percentage(usage, buckets, tiers, events) -%}
{#- the window a running total reads: the period, or every event since the start -#}
{%- set window = 'ev.external_subscription_id, ev.charge_id, ev.filter_index, ev.group_key, '
    ~ 'case when ev.is_recurring then -1 else ev.period_index end' -%}
{%- set event_order = 'order by ev.event_at, ev.source_file, ev.line_number' -%}
{%- set is_count = tally.is_aggregation('u.aggregation_type', 'running_total', 'count') -%}
with window_events as (
    select
        ev.*,
        b.free_units_per_events as free_events,
        b.free_units_per_total_aggregation as free_total,
        row_number() over (partition by {{ window }} {{ event_order }}) as window_rank,
        sum(ev.value) over (
            partition by {{ window }} {{ event_order }}
            rows between unbounded preceding and current row
        ) as window_total
    from {{ events }} as ev
    inner join {{ buckets }} as b
        on ev.charge_id = b.charge_id and ev.filter_index = b.filter_index
    where b.free_units_per_events > 0 or b.free_units_per_total_aggregation > 0
),

-- the highest total before each event: Lago's loop stops at the first event it finds above
-- the free total, so the free running totals are a prefix even when values go negative
free_running_totals as (
    select * from (
        select
            flagged.*,
            {{ tally.percentage_free_flag('flagged', tally.is_aggregation('flagged.aggregation_type', 'running_total', 'values')) }}
                as is_running_total
        from (
            select
                ev.*,
                coalesce(max(ev.window_total) over (
                    partition by {{ window }} {{ event_order }}
                    rows between unbounded preceding and 1 preceding
                ), 0) as window_total_before
            from window_events as ev
        ) as flagged
    ) as free_only
    where is_running_total
),

-- the free running totals each fee reads: its period's, and for a recurring metric the earlier
-- periods' too; the last one is the latest event's (not the highest: values may be negative)
free_figures as (
    select
        {{ tally.fee_grain('u') }},
        {{ tally.percentage_free_value(tally.value_at_max('e.window_total', ['e.window_rank']), 'max(e.free_total)') }}
            as free_value,
        sum(case when e.window_total < e.free_total then 1 else 0 end) as free_running_totals
    from {{ usage }} as u
    inner join free_running_totals as e
        on u.external_subscription_id = e.external_subscription_id
        and u.charge_id = e.charge_id
        and u.filter_index = e.filter_index
        and u.group_key = e.group_key
        and (e.period_index = u.period_index or (e.is_recurring and e.period_index < u.period_index))
    where u.charge_model = 'percentage'
    group by {{ tally.fee_grain('u') }}
),

-- per-transaction min/max: the period's events, ranked and summed within the period
period_events as (
    select
        ev.*,
        b.rate, b.fixed_amount, b.per_transaction_min_amount, b.per_transaction_max_amount,
        b.free_units_per_events as free_events,
        b.free_units_per_total_aggregation as free_total,
        row_number() over (partition by {{ tally.fee_grain('ev') }} {{ event_order }}) as event_rank,
        sum(ev.value) over (
            partition by {{ tally.fee_grain('ev') }} {{ event_order }}
            rows between unbounded preceding and current row
        ) as running_total
    from {{ events }} as ev
    inner join {{ buckets }} as b
        on ev.charge_id = b.charge_id and ev.filter_index = b.filter_index
    where b.per_transaction_min_amount is not null or b.per_transaction_max_amount is not null
),

per_transaction as (
    select
        {{ tally.fee_grain('charged') }},
        sum({{ tally.percentage_transaction('charged') }}) as min_max_amount
    from (
        select ev.*, {{ tally.percentage_charged_value('ev') }} as charged_value
        from period_events as ev
    ) as charged
    group by {{ tally.fee_grain('charged') }}
),

-- a count's running total 1..units needs no events: its free figures follow from the units;
-- free_units_per_events are free events even when the running total is empty (Lago's
-- free_units_count: the smallest non-zero of it and the free running totals)
figures as (
    select
        {{ tally.fee_grain('u') }},
        case when {{ is_count }}
            then {{ tally.percentage_count_free_value('u.units', 'b.free_units_per_events', 'b.free_units_per_total_aggregation') }}
            else free_figures.free_value end as free_value,
        case when {{ is_count }}
            then {{ tally.percentage_free_events('b.free_units_per_events',
                tally.percentage_count_free_running_totals('u.units', 'b.free_units_per_total_aggregation')) }}
            else {{ tally.percentage_free_events('b.free_units_per_events', 'coalesce(free_figures.free_running_totals, 0)') }}
            end as free_events,
        per_transaction.min_max_amount
    from {{ usage }} as u
    inner join {{ buckets }} as b
        on u.charge_id = b.charge_id and u.filter_index = b.filter_index
    left join free_figures
        on {{ tally.grain_join('u', 'free_figures') }}
    left join per_transaction
        on {{ tally.grain_join('u', 'per_transaction') }}
    where u.charge_model = 'percentage'
),

final as (
    select
        {{ tally.fee_grain('u') }},
        {{ tally.percentage_amount('u', 'b', 'f') }} as amount
    from {{ usage }} as u
    inner join {{ buckets }} as b
        on u.charge_id = b.charge_id and u.filter_index = b.filter_index
    inner join figures as f
        on {{ tally.grain_join('u', 'f') }}
)

select * from final
{%- endmacro %}


{#- percentage, running form (progressive billing): the amount of each bucket state of `states`
    (int_progressive_unit_states: one state after each event of a period, and the start
    states), and of the state before it. The bucket's events in order — its carried events
    first (`carried`: a recurring metric's events before the period, which Lago's running total
    reads but which are no states), then its states' events — give, as in the period form, the
    free running totals (over all of them) and the per-transaction amounts (over the period's
    events only); then, at each event, the free value, free events and Σ per-transaction
    amounts so far. A carried start state takes the figures of its last carried event; a
    default start state has none. `bucket` lists the state's bucket columns. -#}
{% macro default__charge_percentage_running(states, buckets, charges, bucket, carried) -%}
with bucket_events as (
    select
        joined.*,
        coalesce(joined.event_value, 1) as value,
        {{ tally.is_aggregation('bucket_charges.aggregation_type', 'running_total', 'values') }} as is_values_metric,
        bucket_prices.rate,
        bucket_prices.fixed_amount,
        bucket_prices.per_transaction_min_amount,
        bucket_prices.per_transaction_max_amount,
        bucket_prices.free_units_per_events as free_events,
        bucket_prices.free_units_per_total_aggregation as free_total
    from (
        select external_subscription_id, period_index, charge_id, filter_index, group_key, ordinal, event_value,
            false as is_in_period
        from {{ carried }}
        where charge_model = 'percentage'
        union all
        select external_subscription_id, period_index, charge_id, filter_index, group_key, ordinal, event_value,
            true as is_in_period
        from {{ states }}
        where charge_model = 'percentage'
            and not is_start
    ) as joined
    inner join {{ buckets }} as bucket_prices
        on joined.charge_id = bucket_prices.charge_id
        and joined.filter_index = bucket_prices.filter_index
    inner join {{ charges }} as bucket_charges
        on joined.charge_id = bucket_charges.charge_id
),

-- running totals since the start of the window (carried events included), and within the
-- period (per-transaction pricing)
ranked_events as (
    select
        bucket_events.*,
        row_number() over (partition by {{ bucket }} order by ordinal) as window_rank,
        sum(value) over (
            partition by {{ bucket }} order by ordinal
            rows between unbounded preceding and current row
        ) as window_total,
        row_number() over (partition by {{ bucket }}, is_in_period order by ordinal) as event_rank,
        sum(value) over (
            partition by {{ bucket }}, is_in_period order by ordinal
            rows between unbounded preceding and current row
        ) as running_total
    from bucket_events
),

flagged_events as (
    select
        flagged.*,
        {{ tally.percentage_free_flag('flagged', 'flagged.is_values_metric') }} as is_running_total,
        case when flagged.is_in_period then {{ tally.percentage_charged_value('flagged') }} end as charged_value
    from (
        select
            ranked.*,
            coalesce(max(window_total) over (
                partition by {{ bucket }} order by ordinal
                rows between unbounded preceding and 1 preceding
            ), 0) as window_total_before
        from ranked_events as ranked
    ) as flagged
),

-- the free running totals are a prefix of the bucket's events: after its end, the last one is
-- the end's
prefix_ends as (
    select
        flagged.*,
        flagged.is_running_total and not coalesce(lead(flagged.is_running_total) over (
            partition by {{ bucket }} order by ordinal
        ), false) as is_prefix_end
    from flagged_events as flagged
),

running_events as (
    select
        ended.*,
        case when ended.is_running_total then ended.window_total
            else max(case when ended.is_prefix_end then ended.window_total end) over (partition by {{ bucket }})
        end as last_running_total,
        sum(case when ended.is_running_total and ended.window_total < ended.free_total then 1 else 0 end) over (
            partition by {{ bucket }} order by ordinal
            rows between unbounded preceding and current row
        ) as free_running_totals,
        sum({{ tally.percentage_transaction('ended') }}) over (
            partition by {{ bucket }} order by ordinal
            rows between unbounded preceding and current row
        ) as min_max_amount
    from prefix_ends as ended
),

running_figures as (
    select
        running.external_subscription_id, running.period_index, running.charge_id, running.filter_index,
        running.group_key, running.ordinal,
        running.min_max_amount,
        {{ tally.percentage_free_value('running.last_running_total', 'running.free_total') }} as free_value,
        {{ tally.percentage_free_events('running.free_events', 'running.free_running_totals') }} as free_events
    from running_events as running
),

-- each state's free figures (a count's from its units, Lago's 1..units) and prices
state_figures as (
    select
        s.*,
        b.rate,
        b.fixed_amount,
        b.per_transaction_min_amount,
        b.per_transaction_max_amount,
        case when {{ tally.is_aggregation('c.aggregation_type', 'running_total', 'count') }}
            then {{ tally.percentage_count_free_value('s.units', 'b.free_units_per_events', 'b.free_units_per_total_aggregation') }}
            else running.free_value end as free_value,
        case when {{ tally.is_aggregation('c.aggregation_type', 'running_total', 'count') }}
            then {{ tally.percentage_free_events('b.free_units_per_events',
                tally.percentage_count_free_running_totals('s.units', 'b.free_units_per_total_aggregation')) }}
            else running.free_events end as free_events,
        running.min_max_amount
    from {{ states }} as s
    inner join {{ buckets }} as b
        on s.charge_id = b.charge_id
        and s.filter_index = b.filter_index
    inner join {{ charges }} as c
        on s.charge_id = c.charge_id
    left join running_figures as running
        on s.external_subscription_id = running.external_subscription_id
        and s.period_index = running.period_index
        and s.charge_id = running.charge_id
        and s.filter_index = running.filter_index
        and s.group_key = running.group_key
        and s.ordinal = running.ordinal
    where s.charge_model = 'percentage'
),

-- percentage at each state, then the state before it
running_amounts as (
    select
        external_subscription_id, period_index, charge_id, filter_index, group_key, ordinal, is_default_start,
        precise_amount,
        lag(precise_amount) over (partition by {{ bucket }}, is_default_start order by ordinal) as previous_precise_amount
    from (
        select
            f.external_subscription_id, f.period_index, f.charge_id, f.filter_index, f.group_key, f.ordinal,
            f.is_default_start,
            {{ tally.to_num("case when " ~ tally.percentage_amount('f', 'f', 'f') ~ " > 0 then "
                ~ tally.percentage_amount('f', 'f', 'f') ~ " else 0 end") }} as precise_amount
        from state_figures as f
    ) as priced
)

select * from running_amounts
{%- endmacro %}


{#- The pieces both forms share, on a row alias `r` with the bucket's prices. -#}

{#- One transaction priced alone: value × rate/100 + fixed_amount, clamped to [min, max]. -#}
{% macro percentage_transaction(r) -%}
case when {{ r }}.charged_value is null then 0 else
            case
                when {{ r }}.per_transaction_min_amount is not null
                    and {{ r }}.charged_value * {{ r }}.rate * cast(0.01 as decimal(3, 2)) + {{ r }}.fixed_amount < {{ r }}.per_transaction_min_amount
                    then {{ r }}.per_transaction_min_amount
                when {{ r }}.per_transaction_max_amount is not null
                    and {{ r }}.charged_value * {{ r }}.rate * cast(0.01 as decimal(3, 2)) + {{ r }}.fixed_amount > {{ r }}.per_transaction_max_amount
                    then {{ r }}.per_transaction_max_amount
                else {{ r }}.charged_value * {{ r }}.rate * cast(0.01 as decimal(3, 2)) + {{ r }}.fixed_amount
            end end
{%- endmacro %}

{#- Whether an event's running total is one of Lago's free running totals (`values`
    aggregations: sum_service#running_total), from its rank and the highest total before it
    in the window (window_rank, window_total_before): the first free_units_per_events events,
    else the events until one finds the total before it above free_units_per_total_aggregation. -#}
{% macro percentage_free_flag(r, is_values_metric) -%}
{{ is_values_metric }} and (
                ({{ r }}.free_events > 0 and {{ r }}.window_rank <= {{ r }}.free_events)
                or ({{ r }}.free_events = 0 and {{ r }}.free_total > 0
                    and {{ r }}.window_total_before <= {{ r }}.free_total)
            )
{%- endmacro %}

{#- The value a period's event is charged on with a per-transaction min or max (Lago
    compute_amount_with_transaction_min_max), from its rank and running total in the period
    (event_rank, running_total): free while the free amount lasts, the crossing event for
    what passes it; else free for the first free_units_per_events events; null = free. -#}
{% macro percentage_charged_value(r) -%}
case
                when {{ r }}.free_total > 0 then
                    case when {{ r }}.running_total < {{ r }}.free_total then null
                        else least({{ r }}.value, {{ r }}.running_total - {{ r }}.free_total) end
                when {{ r }}.free_events > 0 and {{ r }}.event_rank <= {{ r }}.free_events then null
                else {{ r }}.value
            end
{%- endmacro %}

{#- The free value from the last free running total, and the free events. -#}
{% macro percentage_free_value(last_running_total, free_total) -%}
{{ tally.to_num("case when coalesce(" ~ last_running_total ~ ", 0) = 0 then 0 when " ~ free_total ~ " = 0 then " ~ last_running_total
    ~ " when " ~ last_running_total ~ " <= " ~ free_total ~ " then " ~ last_running_total ~ " else " ~ free_total ~ " end") }}
{%- endmacro %}

{% macro percentage_free_events(free_events, free_running_totals) -%}
case
            when {{ free_events }} > 0 and {{ free_running_totals }} > 0 then least({{ free_events }}, {{ free_running_totals }})
            when {{ free_events }} > 0 then {{ free_events }}
            else {{ free_running_totals }}
        end
{%- endmacro %}

{#- A count's running total is 1, 2, …, n (n = whole units; Lago count_service and
    unique_count_service `(1..aggregation)`), whole: its free value is free_units_per_events
    when that is below n (Lago takes running_total[free_units_per_events - 1]), else n capped at
    free_units_per_total_aggregation; nothing without free units. -#}
{% macro percentage_count_free_value(units, free_events, free_total) -%}
{#- each branch cast on its own: a CASE over decimals of different scales may take the smallest -#}
case
            when floor({{ units }}) <= 0 or ({{ free_events }} = 0 and {{ free_total }} = 0) then {{ tally.to_num('0') }}
            when {{ free_events }} > 0 and {{ free_events }} < floor({{ units }}) then {{ tally.to_num(free_events) }}
            when {{ free_total }} = 0 or floor({{ units }}) <= {{ free_total }} then {{ tally.to_num('floor(' ~ units ~ ')') }}
            else {{ tally.to_num(free_total) }}
        end
{%- endmacro %}

{#- How many of a count's running totals 1..n are below free_units_per_total_aggregation. -#}
{% macro percentage_count_free_running_totals(units, free_total) -%}
case when {{ free_total }} <= 0 or floor({{ units }}) <= 0 then 0
            else least(floor({{ units }}), ceil({{ free_total }}) - 1) end
{%- endmacro %}

{#- The fee of `u` (units, events_count) with bucket prices `b` and free figures `p`
    (free_value, free_events, min_max_amount). -#}
{% macro percentage_amount(u, b, p) -%}
case
        when {{ b }}.per_transaction_min_amount is not null or {{ b }}.per_transaction_max_amount is not null
            then coalesce({{ p }}.min_max_amount, 0)
        else
            case when {{ p }}.free_value > {{ u }}.units then 0
                else ({{ u }}.units - coalesce({{ p }}.free_value, 0)) * {{ b }}.rate * cast(0.01 as decimal(3, 2)) end
            + case when {{ u }}.units = 0 or {{ b }}.fixed_amount = 0 or coalesce({{ p }}.free_events, 0) >= {{ u }}.events_count then 0
                else ({{ u }}.events_count - coalesce({{ p }}.free_events, 0)) * {{ b }}.fixed_amount end
    end
{%- endmacro %}
