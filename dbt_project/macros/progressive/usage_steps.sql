{#- The period's usage amount C(t) over time from priced bucket states `states`
    (int_progressive_priced_states, int_progressive_states): one row per period and timestamp
    where C changes (event_at, usage_amount = C after the step). A change is, at each state, the
    bucket's new rounded amount minus its previous one; at a charge filter's first state, minus
    its default bucket's (the 0-unit start, replaced by the event's own bucket); and the
    period's start amount (buckets at the period start), counted at its first event, as Lago
    checks usage when events arrive. Events at one instant are one step; a step that changes
    nothing cannot cross a level, and is left out. -#}
{% macro progressive_usage_steps(states) -%}
select
    external_subscription_id,
    period_index,
    event_at,
    sum(delta) over (
        partition by external_subscription_id, period_index
        order by event_at
        rows between unbounded preceding and current row
    ) as usage_amount
from (
    select external_subscription_id, period_index, event_at, sum(delta) as delta
    from (
        select external_subscription_id, period_index, event_at, amount - previous_amount as delta
        from {{ states }}
        where not is_start
        union all
        select firsts.external_subscription_id, firsts.period_index, firsts.first_event_at, -default_starts.amount
        from (
            select external_subscription_id, period_index, charge_id, filter_index, min(event_at) as first_event_at
            from {{ states }}
            where not is_start
            group by 1, 2, 3, 4
        ) as firsts
        inner join {{ states }} as default_starts
            on firsts.external_subscription_id = default_starts.external_subscription_id
            and firsts.period_index = default_starts.period_index
            and firsts.charge_id = default_starts.charge_id
            and firsts.filter_index = default_starts.filter_index
            and default_starts.is_default_start
        union all
        select starts.external_subscription_id, starts.period_index, firsts.first_event_at, starts.start_amount
        from (
            select external_subscription_id, period_index, sum(amount) as start_amount
            from {{ states }}
            where is_start
            group by 1, 2
        ) as starts
        inner join (
            select external_subscription_id, period_index, min(event_at) as first_event_at
            from {{ states }}
            where not is_start
            group by 1, 2
        ) as firsts
            on starts.external_subscription_id = firsts.external_subscription_id
            and starts.period_index = firsts.period_index
    ) as changes
    group by 1, 2, 3
    having sum(delta) <> 0
) as steps
{%- endmacro %}
