with source as (
    select * from {{ source('catalog', 'plans') }}
),

final as (
    select
        code as plan_code,
        name as plan_name,
        {{ adapter.quote("interval") }} as plan_interval,
        {{ tally.to_num('amount') }} as amount,
        currency,
        pay_in_advance,
        coalesce(trial_period, 0) as trial_period_days,
        {{ tally.to_num('minimum_commitment') }} as minimum_commitment
    from source
)

select * from final
