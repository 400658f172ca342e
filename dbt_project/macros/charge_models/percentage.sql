{#- percentage (Lago percentage_service), `rate` in percent:
      (units − free_value) × rate/100 + (events − free_events) × fixed_amount
    free_value/free_events come from the running totals of the period's events in time order:
    the first free_units_per_events events, or events until the running total passes
    free_units_per_total_aggregation (the crossing event included). With a per-transaction
    min or max, each event is priced alone — free events and free amount first, then
    value × rate/100 + fixed_amount clamped to [min, max] — and summed. -#}
{% macro charge_percentage(usage, buckets, events) -%}
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
