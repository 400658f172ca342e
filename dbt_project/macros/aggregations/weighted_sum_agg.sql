{#- weighted_sum (Lago weighted_sum_service): values are deltas of a level, integrated over
    [from, to): the opening level (recurring: every earlier delta) for the whole period, plus
    each in-period delta δ at t from t to the period end, Σδ·(to − t) = Σ over days of
    Σδ·(to − day) − Σδ·(t − day), in exact microseconds; divided by the FULL period's seconds
    (Lago's charges_duration, even when the subscription starts or ends within it), rounded up
    at 10 decimals as Lago's `.ceil(20)` (divide_ceil). -#}
{% macro default__aggregation_weighted_sum_agg(days, ids) -%}
select external_subscription_id, period_index, charge_id, filter_index, group_key,
    {{ tally.divide_ceil('level_micros * 0.000001', 'charges_duration_days * 86400') }} as units
from (
    select
        external_subscription_id, period_index, charge_id, filter_index, group_key,
        max(full_period_days) as charges_duration_days,
        sum(case when is_in_period then 0 else sum_value end)
            * max({{ tally.micros_between('from_at', 'to_at') }})
            + coalesce(sum(case when is_in_period
                then sum_value * {{ tally.micros_between('cast(usage_date as timestamp)', 'to_at') }}
                    - weighted_offset_micros
                end), 0) as level_micros
    from {{ days }} as days
    group by 1, 2, 3, 4, 5
) as weighted
{%- endmacro %}
