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

{#- Prorated (Lago prorated_aggregations/unique_count_service.rb, events/stores/postgres/
    unique_count_query.rb prorated_query): each id counts the days it is active in the period,
    from the day it is added to the day it is removed, both inclusive, customer timezone
    (DATE(next event) + 1 day − DATE(max(added, period start))). Read from the ids' last
    operation of each local day, so a remove and an add of one id on the same day is no change
    (Lago ignores same-day churn too). Steps: +1 at each add with its active days in the period,
    −1 at each remove within the period (0 days: it only moves the count, for prorated
    graduated); an add and remove both before the period are no step. `ids`: the
    unique_count_agg rows of int_prorated_steps' window (one per id and local day with its
    last_operation and order key, and the period's period_start, period_end). -#}
{% macro default__aggregation_unique_count_agg_prorated(days, ids) -%}
{%- set id_grain = 'external_subscription_id, period_index, charge_id, filter_index, group_key, field_value_text' -%}
with transitions as (
    select
        changes.*,
        case when is_add then lead(usage_date) over (partition by {{ id_grain }} order by usage_date) end
            as removed_on,
        case when not is_add then lag(usage_date) over (partition by {{ id_grain }} order by usage_date) end
            as added_on
    from (
        select
            ids.*,
            coalesce(last_operation, 'add') <> 'remove' as is_add,
            coalesce(lag(coalesce(last_operation, 'add') <> 'remove') over (
                partition by {{ id_grain }} order by usage_date), false) as was_add
        from {{ ids }} as ids
    ) as changes
    where is_add <> was_add
)

select external_subscription_id, period_index, charge_id, filter_index, group_key,
    step_date, step_at, step_file, step_line, {{ tally.to_num('full_units') }} as full_units, active_days
from (
    select
        external_subscription_id, period_index, charge_id, filter_index, group_key,
        usage_date as step_date, last_event_at as step_at, last_source_file as step_file,
        last_line_number as step_line,
        1 as full_units,
        {{ dbt.datediff(
            'case when usage_date > period_start then usage_date else period_start end',
            'case when removed_on is not null and removed_on < period_end then removed_on else period_end end',
            'day') }} + 1 as active_days
    from transitions
    where is_add and (removed_on is null or removed_on >= period_start)
    union all
    select
        external_subscription_id, period_index, charge_id, filter_index, group_key,
        usage_date, last_event_at, last_source_file, last_line_number,
        -1, 0
    from transitions
    where not is_add and usage_date >= period_start and added_on is not null
) as steps
{%- endmacro %}

{#- Carried into a period (a recurring unique count in advance, int_instant_fees): one `add` row
    per id whose last operation before the period is not a removal, at that operation's order
    key, so the running form starts the period at the ids then active and knows each one (a
    removal of a carried id is −1, an add of it again 0; Lago's active_unique_property?).
    `ids`: int_unique_ids_daily rows before the period's first local day, with period_index. -#}
{% macro default__aggregation_unique_count_agg_carried(days, ids) -%}
{%- set latest = ['last_event_at', 'last_source_file', 'last_line_number'] -%}
select external_subscription_id, period_index, charge_id, filter_index, group_key,
    event_at, usage_date, source_file, line_number, '' as file_checksum,
    cast(null as {{ tally.num_type() }}) as event_value,
    field_value_text,
    false as is_remove
from (
    select external_subscription_id, period_index, charge_id, filter_index, group_key, field_value_text,
        {{ tally.value_at_max('last_operation', latest) }} as last_operation,
        max(last_event_at) as event_at,
        max(usage_date) as usage_date,
        {{ tally.value_at_max('last_source_file', latest) }} as source_file,
        {{ tally.value_at_max('last_line_number', latest) }} as line_number
    from {{ ids }} as ids
    group by 1, 2, 3, 4, 5, 6
) as last_operations
where coalesce(last_operation, 'add') <> 'remove'
{%- endmacro %}
