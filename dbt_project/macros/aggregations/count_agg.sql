{#- count (Lago count_service): the events of the period. -#}
{% macro default__aggregation_count_agg(days, ids) -%}
select external_subscription_id, period_index, charge_id, filter_index, group_key, sum(events_count) as units
from {{ days }} as days
group by 1, 2, 3, 4, 5
{%- endmacro %}

{#- After each event: its rank in the bucket. -#}
{% macro default__aggregation_count_agg_running(events, bucket, event_order) -%}
select counted.*, 0 as carried,
    {{ tally.to_num('ordinal') }} as units_after,
    case when ordinal > 1 then {{ tally.to_num('ordinal - 1') }} end as units_before
from (
    select events.*, row_number() over (partition by {{ bucket }} order by {{ event_order }}) as ordinal
    from {{ events }} as events
) as counted
{%- endmacro %}

{% macro default__aggregation_count_agg_units(count, total, highest) %}{{ count }}{% endmacro %}
