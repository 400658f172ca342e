-- Progressive-billing thresholds per plan (Lago usage_thresholds): fixed amounts, and at
-- most one recurring amount that repeats after the largest fixed one.
with source as (
    select * from {{ source('catalog', 'usage_thresholds') }}
),

final as (
    select
        plan_code,
        {{ tally.to_num('amount') }} as amount,
        recurring as is_recurring,
        line_number as threshold_index
    from source
)

select * from final
