{#-
  A balance spent greedily, in order: rows carry `supply` (money coming in) and `demand`
  (money asked for); each demand takes what it can of what is left, the balance never goes
  below zero. Set-based, no recursion: with S and D the running sums, the amount used to
  date is D + min(0, running min of S - D) (the balance recursion
  used_i = least(used_{i-1} + demand_i, S_i), unrolled). Adds supply_to_date,
  used_to_date and `used` (this row's share).
-#}
{% macro greedy_allocation(relation, partition_by, order_by) %}
select
    bounded.*,
    used_to_date - coalesce(lag(used_to_date) over (partition by {{ partition_by }} order by {{ order_by }}), 0) as used
from (
    select
        running.*,
        demand_to_date + case when lowest_margin < 0 then lowest_margin else 0 end as used_to_date
    from (
        select
            sums.*,
            min(supply_to_date - demand_to_date) over (
                partition by {{ partition_by }} order by {{ order_by }}
                rows between unbounded preceding and current row
            ) as lowest_margin
        from (
            select
                source_rows.*,
                sum(supply) over (
                    partition by {{ partition_by }} order by {{ order_by }}
                    rows between unbounded preceding and current row
                ) as supply_to_date,
                sum(demand) over (
                    partition by {{ partition_by }} order by {{ order_by }}
                    rows between unbounded preceding and current row
                ) as demand_to_date
            from {{ relation }} as source_rows
        ) as sums
    ) as running
) as bounded
{% endmacro %}
