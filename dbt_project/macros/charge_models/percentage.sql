{#- percentage (Lago percentage_service), `rate` in percent:
      (units − free_value) × rate/100 + (events − free_events) × fixed_amount
    free_value/free_events come from the running totals of the period's events in time order:
    the first free_units_per_events events, or events until the running total passes
    free_units_per_total_aggregation (the crossing event included). With a per-transaction
    min or max, each event is priced alone — free events and free amount first, then
    value × rate/100 + fixed_amount clamped to [min, max] — and summed. -#}
{% macro default__charge_percentage(usage, buckets, tiers, events) -%}
select {{ tally.fee_grain('u') }},
    case
        when b.per_transaction_min_amount is not null or b.per_transaction_max_amount is not null
            then coalesce(s.min_max_amount, 0)
        else
            case when s.free_value > u.units then 0
                else (u.units - coalesce(s.free_value, 0)) * b.rate * cast(0.01 as decimal(3, 2)) end
            + case when u.units = 0 or b.fixed_amount = 0 or coalesce(s.free_events, 0) >= u.events_count then 0
                else (u.events_count - coalesce(s.free_events, 0)) * b.fixed_amount end
    end as amount
from {{ usage }} as u
inner join {{ buckets }} as b
    on u.charge_id = b.charge_id and u.filter_index = b.filter_index
left join (
    select
        {{ tally.fee_grain('e') }},
        {{ tally.to_num("""case
            when coalesce(max(case when e.is_running_total then e.running_total end), 0) = 0 then 0
            when max(e.free_total) = 0 then max(case when e.is_running_total then e.running_total end)
            when max(case when e.is_running_total then e.running_total end) <= max(e.free_total)
                then max(case when e.is_running_total then e.running_total end)
            else max(e.free_total)
        end""") }} as free_value,
        case
            when max(e.free_events) > 0 and sum(case when e.is_running_total and e.running_total < e.free_total then 1 else 0 end) > 0
                then least(max(e.free_events), sum(case when e.is_running_total and e.running_total < e.free_total then 1 else 0 end))
            when max(e.free_events) > 0 then max(e.free_events)
            else sum(case when e.is_running_total and e.running_total < e.free_total then 1 else 0 end)
        end as free_events,
        sum(case when e.charged_value is null then 0 else
            case
                when e.per_transaction_min_amount is not null
                    and e.charged_value * e.rate * cast(0.01 as decimal(3, 2)) + e.fixed_amount < e.per_transaction_min_amount
                    then e.per_transaction_min_amount
                when e.per_transaction_max_amount is not null
                    and e.charged_value * e.rate * cast(0.01 as decimal(3, 2)) + e.fixed_amount > e.per_transaction_max_amount
                    then e.per_transaction_max_amount
                else e.charged_value * e.rate * cast(0.01 as decimal(3, 2)) + e.fixed_amount
            end end) as min_max_amount
    from (
        select
            ranked.*,
            -- running totals exist only for sum metrics (Lago sum_service#running_total)
            ranked.aggregation_type = 'sum_agg' and (
                (ranked.free_events > 0 and ranked.event_rank <= ranked.free_events)
                or (ranked.free_events = 0 and ranked.free_total > 0
                    and ranked.running_total - ranked.value <= ranked.free_total)
            ) as is_running_total,
            case
                when ranked.free_total > 0 then
                    case when ranked.running_total < ranked.free_total then null
                        else least(ranked.value, ranked.running_total - ranked.free_total) end
                when ranked.free_events > 0 and ranked.event_rank <= ranked.free_events then null
                else ranked.value
            end as charged_value
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
            bucket_charges.aggregation_type = 'sum_agg' as is_sum_metric,
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
        ranked.is_sum_metric and (
            (ranked.free_events > 0 and ranked.event_rank <= ranked.free_events)
            or (ranked.free_events = 0 and ranked.free_total > 0
                and ranked.running_total - ranked.value <= ranked.free_total)
        ) as is_running_total,
        case
            when ranked.free_total > 0 then
                case when ranked.running_total < ranked.free_total then null
                    else least(ranked.value, ranked.running_total - ranked.free_total) end
            when ranked.free_events > 0 and ranked.event_rank <= ranked.free_events then null
            else ranked.value
        end as charged_value
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
        sum(case when flagged.charged_value is null then 0 else
            case
                when flagged.per_transaction_min_amount is not null
                    and flagged.charged_value * flagged.rate * cast(0.01 as decimal(3, 2)) + flagged.fixed_amount
                        < flagged.per_transaction_min_amount
                    then flagged.per_transaction_min_amount
                when flagged.per_transaction_max_amount is not null
                    and flagged.charged_value * flagged.rate * cast(0.01 as decimal(3, 2)) + flagged.fixed_amount
                        > flagged.per_transaction_max_amount
                    then flagged.per_transaction_max_amount
                else flagged.charged_value * flagged.rate * cast(0.01 as decimal(3, 2)) + flagged.fixed_amount
            end end) over (
            partition by {{ bucket }} order by ordinal
            rows between unbounded preceding and current row
        ) as min_max_amount
    from flagged_events as flagged
),

running_figures as (
    select
        period_key, charge_key, filter_index, group_key, ordinal,
        min_max_amount,
        {{ tally.to_num("""case
            when coalesce(last_running_total, 0) = 0 then 0
            when free_total = 0 then last_running_total
            when last_running_total <= free_total then last_running_total
            else free_total
        end""") }} as free_value,
        case
            when free_events > 0 and free_running_totals > 0 then least(free_events, free_running_totals)
            when free_events > 0 then free_events
            else free_running_totals
        end as free_events
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
                case
                    when b.per_transaction_min_amount is not null or b.per_transaction_max_amount is not null
                        then coalesce(p.min_max_amount, 0)
                    else
                        case when p.free_value > s.units then 0
                            else (s.units - coalesce(p.free_value, 0)) * b.rate * cast(0.01 as decimal(3, 2)) end
                        + case when s.units = 0 or b.fixed_amount = 0 or coalesce(p.free_events, 0) >= s.events_count then 0
                            else (s.events_count - coalesce(p.free_events, 0)) * b.fixed_amount end
                end as amount
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
