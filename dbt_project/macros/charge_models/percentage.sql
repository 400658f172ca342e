{#- percentage (Lago percentage_service), `rate` in percent:
      (units − free_value) × rate/100 + (events − free_events) × fixed_amount
    free_value/free_events come from the running totals of the period's events in time order:
    the first free_units_per_events events, or events until the running total passes
    free_units_per_total_aggregation (the crossing event included). With a per-transaction
    min or max, each event is priced alone — free events and free amount first, then
    value × rate/100 + fixed_amount clamped to [min, max] — and summed. -#}
{% macro default__charge_percentage(usage, buckets, tiers, events) -%}
select {{ tally.fee_grain('u') }},
    {{ tally.percentage_amount('u', 'b', 's') }} as amount
from {{ usage }} as u
inner join {{ buckets }} as b
    on u.charge_id = b.charge_id and u.filter_index = b.filter_index
left join (
    select
        {{ tally.fee_grain('e') }},
        {{ tally.percentage_free_value('max(case when e.is_running_total then e.running_total end)', 'max(e.free_total)') }} as free_value,
        {{ tally.percentage_free_events('max(e.free_events)', 'sum(case when e.is_running_total and e.running_total < e.free_total then 1 else 0 end)') }} as free_events,
        sum({{ tally.percentage_transaction('e') }}) as min_max_amount
    from (
        select
            ranked.*,
            {{ tally.percentage_running_flags('ranked', tally.is_aggregation('ranked.aggregation_type', 'running_total')) }}
        from (
            select
                ev.*,
                b2.rate, b2.fixed_amount, b2.per_transaction_min_amount, b2.per_transaction_max_amount,
                b2.free_units_per_events as free_events,
                b2.free_units_per_total_aggregation as free_total,
                row_number() over (
                    partition by {{ tally.fee_grain('ev') }}
                    order by ev.event_at, ev.source_file, ev.line_number
                ) as event_rank,
                sum(ev.value) over (
                    partition by {{ tally.fee_grain('ev') }}
                    order by ev.event_at, ev.source_file, ev.line_number
                    rows between unbounded preceding and current row
                ) as running_total
            from {{ events }} as ev
            inner join {{ buckets }} as b2
                on ev.charge_id = b2.charge_id and ev.filter_index = b2.filter_index
        ) as ranked
    ) as e
    group by {{ tally.fee_grain('e') }}
) as s
    on {{ tally.grain_join('u', 's') }}
where u.charge_model = 'percentage'
{%- endmacro %}


{#- percentage, running form (progressive billing): the amount of each bucket state of `states`
    (macros/progressive_billing.sql: one state after each event of a period, and the start
    states), and of the state before it. The running totals of the period's events (a count event
    is worth 1), whether each is a free running total and the value it is charged on, as above
    over the whole period; then, after each event, the free value, free events and Σ
    per-transaction amounts so far. A start state has no event of the period: nothing free, no
    per-transaction amount. `bucket` lists the state's bucket columns. -#}
{% macro default__charge_percentage_running(states, buckets, charges, bucket) -%}
with ranked_events as (
    select
        joined.*,
        row_number() over (partition by {{ bucket }} order by ordinal) as event_rank,
        sum(value) over (
            partition by {{ bucket }} order by ordinal
            rows between unbounded preceding and current row
        ) as running_total
    from (
        select
            states.*,
            coalesce(states.event_value, 1) as value,
            {{ tally.is_aggregation('bucket_charges.aggregation_type', 'running_total') }} as is_sum_metric,
            bucket_prices.rate,
            bucket_prices.fixed_amount,
            bucket_prices.per_transaction_min_amount,
            bucket_prices.per_transaction_max_amount,
            bucket_prices.free_units_per_events as free_events,
            bucket_prices.free_units_per_total_aggregation as free_total
        from {{ states }} as states
        inner join {{ buckets }} as bucket_prices
            on states.charge_id = bucket_prices.charge_id
            and states.filter_index = bucket_prices.filter_index
        inner join {{ charges }} as bucket_charges
            on states.charge_key = bucket_charges.charge_key
        where states.charge_model = 'percentage'
            and not states.is_start
    ) as joined
),

flagged_events as (
    select
        ranked.*,
        {{ tally.percentage_running_flags('ranked', 'ranked.is_sum_metric') }}
    from ranked_events as ranked
),

running_events as (
    select
        flagged.*,
        max(case when flagged.is_running_total then flagged.running_total end) over (
            partition by {{ bucket }} order by ordinal
            rows between unbounded preceding and current row
        ) as last_running_total,
        sum(case when flagged.is_running_total and flagged.running_total < flagged.free_total then 1 else 0 end) over (
            partition by {{ bucket }} order by ordinal
            rows between unbounded preceding and current row
        ) as free_running_totals,
        sum({{ tally.percentage_transaction('flagged') }}) over (
            partition by {{ bucket }} order by ordinal
            rows between unbounded preceding and current row
        ) as min_max_amount
    from flagged_events as flagged
),

running_figures as (
    select
        period_key, charge_key, filter_index, group_key, ordinal,
        min_max_amount,
        {{ tally.percentage_free_value('last_running_total', 'free_total') }} as free_value,
        {{ tally.percentage_free_events('free_events', 'free_running_totals') }} as free_events
    from running_events
),

-- percentage at each state (a start state has no event of the period: nothing free, no
-- per-transaction amount), then the state before it
running_amounts as (
    select
        period_key, charge_key, filter_index, group_key, ordinal, is_default_start, precise_amount,
        lag(precise_amount) over (partition by {{ bucket }}, is_default_start order by ordinal) as previous_precise_amount
    from (
        select
            s.period_key, s.charge_key, s.filter_index, s.group_key, s.ordinal, s.is_default_start,
            {{ tally.to_num("""case when amount > 0 then amount else 0 end""") }} as precise_amount
        from (
            select
                s.*,
                {{ tally.percentage_amount('s', 'b', 'p') }} as amount
            from {{ states }} as s
            inner join {{ buckets }} as b
                on s.charge_id = b.charge_id
                and s.filter_index = b.filter_index
            left join running_figures as p
                on s.period_key = p.period_key
                and s.charge_key = p.charge_key
                and s.filter_index = p.filter_index
                and s.group_key = p.group_key
                and s.ordinal = p.ordinal
            where s.charge_model = 'percentage'
        ) as s
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

{#- Whether an event is a free running total (those exist only for sum metrics, Lago
    sum_service#running_total), and the value it is charged on. -#}
{% macro percentage_running_flags(r, is_sum_metric) -%}
{{ is_sum_metric }} and (
                ({{ r }}.free_events > 0 and {{ r }}.event_rank <= {{ r }}.free_events)
                or ({{ r }}.free_events = 0 and {{ r }}.free_total > 0
                    and {{ r }}.running_total - {{ r }}.value <= {{ r }}.free_total)
            ) as is_running_total,
            case
                when {{ r }}.free_total > 0 then
                    case when {{ r }}.running_total < {{ r }}.free_total then null
                        else least({{ r }}.value, {{ r }}.running_total - {{ r }}.free_total) end
                when {{ r }}.free_events > 0 and {{ r }}.event_rank <= {{ r }}.free_events then null
                else {{ r }}.value
            end as charged_value
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
