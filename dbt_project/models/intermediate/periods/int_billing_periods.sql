-- Every billing period of every subscription up to the run's horizon, as local dates in the
-- customer's timezone (both ends inclusive, as Lago) and as UTC instants [from_at, to_at).
-- Calendar periods align on Monday / the 1st of month, quarter or year; anniversary periods
-- on the start day, counted from the start so day 31 stays the month's last day.
with subscriptions as (
    select * from {{ ref('stg_subscriptions') }}
),

plans as (
    select * from {{ ref('stg_plans') }}
),

spine as (
    select * from {{ ref('int_number_spine') }}
),

anchored as (
    select
        subscriptions.*,
        plans.plan_interval,
        plans.pay_in_advance,
        plans.amount as plan_amount,
        plans.currency,
        plans.trial_period_days,
        case plans.plan_interval when 'quarterly' then 3 when 'yearly' then 12 else 1 end as months_per_period,
        case
            when subscriptions.billing_time = 'anniversary' then subscriptions.started_on
            when plans.plan_interval = 'weekly' then cast({{ dbt.date_trunc('week', 'subscriptions.started_on') }} as date)
            when plans.plan_interval = 'quarterly' then cast({{ dbt.date_trunc('quarter', 'subscriptions.started_on') }} as date)
            when plans.plan_interval = 'yearly' then cast({{ dbt.date_trunc('year', 'subscriptions.started_on') }} as date)
            else cast({{ dbt.date_trunc('month', 'subscriptions.started_on') }} as date)
        end as anchor_on,
        {{ tally.billing_to() }} as horizon_on
    from subscriptions
    inner join plans
        on subscriptions.plan_code = plans.plan_code
),

stepped as (
    select
        anchored.*,
        spine.n as period_index,
        case when plan_interval = 'weekly'
            then cast({{ dbt.dateadd('day', '7 * spine.n', 'anchor_on') }} as date)
            else cast({{ dbt.dateadd('month', 'months_per_period * spine.n', 'anchor_on') }} as date)
        end as full_period_start,
        case when plan_interval = 'weekly'
            then cast({{ dbt.dateadd('day', '7 * (spine.n + 1)', 'anchor_on') }} as date)
            else cast({{ dbt.dateadd('month', 'months_per_period * (spine.n + 1)', 'anchor_on') }} as date)
        end as next_period_start
    from anchored
    inner join spine
        on spine.n <= {{ dbt.datediff('anchor_on', 'horizon_on', 'day') }} / 7 + 1
),

bounded as (
    select
        *,
        case when full_period_start < started_on then started_on else full_period_start end as period_start,
        case when ending_on is not null and ending_on < next_period_start
            then ending_on
            else cast({{ dbt.dateadd('day', -1, 'next_period_start') }} as date)
        end as period_end,
        cast({{ dbt.dateadd('day', 'trial_period_days', 'started_on') }} as date) as trial_ends_on
    from stepped
    where full_period_start <= horizon_on
        and (ending_on is null or full_period_start <= ending_on)
),

final as (
    select
        external_subscription_id,
        external_customer_id,
        plan_code,
        plan_interval,
        billing_time,
        pay_in_advance,
        plan_amount,
        currency,
        timezone,
        started_on,
        ending_on,
        trial_ends_on,
        period_index,
        full_period_start,
        cast({{ dbt.dateadd('day', -1, 'next_period_start') }} as date) as full_period_end,
        period_start,
        period_end,
        {{ dbt.datediff('full_period_start', 'next_period_start', 'day') }} as full_period_days,
        {{ dbt.datediff('period_start', 'period_end', 'day') }} + 1 as period_days,
        -- days of the period the subscription fee is due for (trial days are free)
        case
            when trial_ends_on > period_end then 0
            when trial_ends_on > period_start then {{ dbt.datediff('trial_ends_on', 'period_end', 'day') }} + 1
            else {{ dbt.datediff('period_start', 'period_end', 'day') }} + 1
        end as fee_days,
        {{ tally.local_to_utc('cast(period_start as timestamp)', 'timezone') }} as from_at,
        {{ tally.local_to_utc(dbt.dateadd('day', 1, 'cast(period_end as timestamp)'), 'timezone') }} as to_at,
        cast({{ dbt.date_trunc('month', 'period_end') }} as date) as billing_month,
        -- every closed period is computed (wallets, coupons and lifetime usage carry state
        -- from earlier periods); only the window's invoices are published
        period_end < {{ tally.billing_to() }} as is_billable,
        period_end >= {{ tally.billing_from() }}
            and period_end < {{ tally.billing_to() }} as is_in_window
    from bounded
    where period_start <= period_end
)

select * from final
