{#- max (Lago max_service): the largest value, 0 without one. -#}
{% macro default__aggregation_max_agg(days, ids) -%}
select external_subscription_id, period_index, charge_id, filter_index, group_key, max(max_value) as units
from {{ days }} as days
group by 1, 2, 3, 4, 5
{%- endmacro %}

{#- After each event: the running max, and before it the max of the earlier events. -#}
{% macro default__aggregation_max_agg_running(events, bucket, event_order) -%}
select maxed.*, 0 as carried,
    {{ tally.to_num('coalesce(running_max, 0)') }} as units_after,
    case when ordinal > 1 then {{ tally.to_num('coalesce(previous_max, 0)') }} end as units_before
from (
    select
        events.*,
        row_number() over (partition by {{ bucket }} order by {{ event_order }}) as ordinal,
        max(event_value) over (
            partition by {{ bucket }} order by {{ event_order }}
            rows between unbounded preceding and current row
        ) as running_max,
        max(event_value) over (
            partition by {{ bucket }} order by {{ event_order }}
            rows between unbounded preceding and 1 preceding
        ) as previous_max
    from {{ events }} as events
) as maxed
{%- endmacro %}

{% macro default__aggregation_max_agg_units(count, total, highest) %}coalesce({{ highest }}, 0){% endmacro %}
