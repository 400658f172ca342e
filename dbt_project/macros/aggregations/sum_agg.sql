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

{#- Prorated (Lago prorated_aggregations/sum_service.rb, events/stores/postgres_store.rb
    prorated_sum): what was carried into the period (every earlier day) counts for the period's
    days (persisted_duration), each day's sum of the period from its day to the period's end,
    both inclusive ((DATE(to) − DATE(day) + 1) / duration, customer timezone), so a value of
    −1 on the 22nd stops counting on the 21st. One step per carried total and per day; `days`:
    the sum_agg rows of int_prorated_steps' window (usage_date, sum_value, is_in_period,
    period_start, period_end, period_days). -#}
{% macro default__aggregation_sum_agg_prorated(days, ids) -%}
select external_subscription_id, period_index, charge_id, filter_index, group_key,
    max(usage_date) as step_date,
    cast(null as timestamp) as step_at,
    cast(null as {{ dbt.type_string() }}) as step_file,
    cast(null as bigint) as step_line,
    {{ tally.to_num('sum(sum_value)') }} as full_units,
    max(period_days) as active_days
from {{ days }} as days
where not is_in_period
group by 1, 2, 3, 4, 5
having sum(sum_value) <> 0
union all
select external_subscription_id, period_index, charge_id, filter_index, group_key,
    usage_date as step_date,
    cast(null as timestamp) as step_at,
    cast(null as {{ dbt.type_string() }}) as step_file,
    cast(null as bigint) as step_line,
    {{ tally.to_num('sum_value') }} as full_units,
    {{ dbt.datediff('usage_date', 'period_end', 'day') }} + 1 as active_days
from {{ days }} as days
where is_in_period and sum_value <> 0
{%- endmacro %}

{#- Carried into a period (a recurring sum in advance, int_instant_fees): every earlier day's sum
    as one row of the running form, placed after the last carried event and before the period's
    own (Lago's recurring store drops the lower bound: the level the period opens at). `days`:
    int_usage_daily rows before the period's first local day, with period_index. -#}
{% macro default__aggregation_sum_agg_carried(days, ids) -%}
select external_subscription_id, period_index, charge_id, filter_index, group_key,
    max(latest_event_at) as event_at,
    max(usage_date) as usage_date,
    '' as source_file,
    cast(0 as bigint) as line_number,
    '' as file_checksum,
    {{ tally.to_num('coalesce(sum(sum_value), 0)') }} as event_value,
    cast(null as {{ dbt.type_string() }}) as field_value_text,
    false as is_remove
from {{ days }} as days
group by 1, 2, 3, 4, 5
{%- endmacro %}
