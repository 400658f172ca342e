{#- sum (Lago sum_service): Σ value; a recurring metric's carries across periods. -#}
{% macro default__aggregation_sum_agg(days, ids) -%}
select external_subscription_id, period_index, charge_id, filter_index, group_key, sum(sum_value) as units
from {{ days }} as days
group by 1, 2, 3, 4, 5
{%- endmacro %}

{#- After each event: the running sum (recurring: from the carried events, counted in the
    ordinal; carried = how many). -#}
{% macro default__aggregation_sum_agg_running(events, bucket, event_order) -%}
select summed.*,
    {{ tally.to_num('coalesce(running_sum, 0)') }} as units_after,
    case when ordinal > 1 then {{ tally.to_num('coalesce(running_sum, 0) - coalesce(event_value, 0)') }} end as units_before
from (
    select
        events.*,
        row_number() over (partition by {{ bucket }} order by {{ event_order }}) as ordinal,
        sum(case when is_in_period then 0 else 1 end) over (partition by {{ bucket }}) as carried,
        sum(event_value) over (
            partition by {{ bucket }} order by {{ event_order }}
            rows between unbounded preceding and current row
        ) as running_sum
    from {{ events }} as events
) as summed
{%- endmacro %}

{% macro default__aggregation_sum_agg_units(count, total, highest) %}{{ total }}{% endmacro %}
