{#- unique_count (Lago unique_count_service): the ids whose last add/remove operation up to
    the period end is `add` (`ids`: one row per id and period with its last operation). -#}
{% macro default__aggregation_unique_count_agg(days, ids) -%}
select external_subscription_id, period_index, charge_id, filter_index, group_key,
    sum(case when last_operation = 'remove' then 0 else 1 end) as units
from {{ ids }} as ids
group by 1, 2, 3, 4, 5
{%- endmacro %}

{#- After each event: the running sum of each event's contribution, Lago's operation_value:
    +1 (add after a remove), -1 (remove after an add) or 0 (same operation as the id's previous
    one; the first one is compared with `remove`) = the ids whose last operation is `add`. -#}
{% macro default__aggregation_unique_count_agg_running(events, bucket, event_order) -%}
select uniques.*,
    {{ tally.to_num('running_unique') }} as units_after,
    case when ordinal > 1 then {{ tally.to_num('running_unique - contribution') }} end as units_before
from (
    select
        contributions.*,
        row_number() over (partition by {{ bucket }} order by {{ event_order }}) as ordinal,
        sum(case when is_in_period then 0 else 1 end) over (partition by {{ bucket }}) as carried,
        sum(contribution) over (
            partition by {{ bucket }} order by {{ event_order }}
            rows between unbounded preceding and current row
        ) as running_unique
    from (
        select
            events.*,
            case
                when is_remove = coalesce(lag(is_remove) over (
                    partition by {{ bucket }}, field_value_text order by {{ event_order }}), true) then 0
                when is_remove then -1
                else 1
            end as contribution
        from {{ events }} as events
    ) as contributions
) as uniques
{%- endmacro %}
