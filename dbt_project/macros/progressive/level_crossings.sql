{#- The rows of `candidates` (a relation with plan_code and two lifetime amounts `low` < `high`)
    between which a threshold level of their plan lies: low < level <= high. Levels: each fixed
    amount, and with a recurring amount r each k·r above the largest fixed amount F (0 if none),
    Lago's rule. Returns `keys` (columns of `candidates`), once per row. -#}
{% macro progressive_level_crossings(candidates, keys, low, high) -%}
select {% for key in keys %}candidates.{{ key }}{% if not loop.last %}, {% endif %}{% endfor %}
from {{ candidates }} as candidates
inner join {{ ref('stg_usage_thresholds') }} as thresholds
    on candidates.plan_code = thresholds.plan_code
    and not thresholds.is_recurring
    and thresholds.amount > candidates.{{ low }}
    and thresholds.amount <= candidates.{{ high }}
union
select {% for key in keys %}candidates.{{ key }}{% if not loop.last %}, {% endif %}{% endfor %}
from {{ candidates }} as candidates
inner join (
    select
        plan_code,
        coalesce(max(case when not is_recurring then amount end), 0) as largest_fixed,
        max(case when is_recurring then amount end) as recurring_amount
    from {{ ref('stg_usage_thresholds') }}
    group by 1
) as plan_levels
    on candidates.plan_code = plan_levels.plan_code
where plan_levels.recurring_amount is not null
    and floor({{ tally.divide('candidates.' ~ high, 'plan_levels.recurring_amount') }})
        > floor({{ tally.divide('greatest(candidates.' ~ low ~ ', plan_levels.largest_fixed)', 'plan_levels.recurring_amount') }})
{%- endmacro %}
