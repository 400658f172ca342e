{#- latest (Lago latest_service): the value of the period's last event (by event_at, file,
    line), negatives 0. -#}
{% macro default__aggregation_latest_agg(days, ids) -%}
select external_subscription_id, period_index, charge_id, filter_index, group_key,
    case when latest_value > 0 then latest_value else 0 end as units
from (
    select external_subscription_id, period_index, charge_id, filter_index, group_key,
        {{ tally.value_at_max('latest_value', ['latest_event_at', 'latest_source_file', 'latest_line_number']) }}
            as latest_value
    from {{ days }} as days
    group by 1, 2, 3, 4, 5
) as latest
{%- endmacro %}

{#- After each event: its value (negatives 0); before it, the previous event's. -#}
{% macro default__aggregation_latest_agg_running(events, bucket, event_order) -%}
select latest.*, 0 as carried,
    {{ tally.to_num('case when event_value > 0 then event_value else 0 end') }} as units_after,
    case when ordinal > 1 then {{ tally.to_num('case when previous_value > 0 then previous_value else 0 end') }} end
        as units_before
from (
    select
        events.*,
        row_number() over (partition by {{ bucket }} order by {{ event_order }}) as ordinal,
        lag(event_value) over (partition by {{ bucket }} order by {{ event_order }}) as previous_value
    from {{ events }} as events
) as latest
{%- endmacro %}
