-- Progressive billing: the (period, UTC day)s replayed event by event. The screen
-- (int_progressive_priced_states) takes a screened bucket's day in one step; its lifetime usage
-- H + C(t) is then a lower bound of the real one at each of its steps, and exact at each day's
-- close. A threshold can only be crossed in a day when a level lies between the highest
-- lifetime usage reached before it (H at least) and the highest of the day's screen steps, so
-- those days are replayed; so are the days that mix screened and other charges' events (the
-- others are followed event by event, and a day state would come after them). Every other day
-- crosses no threshold. Incremental by period (macros/incremental/periods_to_rate.sql).
-- depends_on: {{ ref('int_usage_daily') }}, {{ ref('int_unique_ids_daily') }}, {{ ref('int_billing_periods') }}
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    pre_hook="{{ tally.delete_periods_to_rate() }}",
    post_hook="{{ tally.save_rated_periods() }}",
) }}
with screen_states as (
    {{ tally.rows_to_rate(ref('int_progressive_priced_states')) }}
),

periods as (
    {{ tally.rows_to_rate(ref('int_progressive_periods')) }}
),

events as (
    {{ tally.rows_to_rate(ref('int_progressive_events')) }}
),

-- the screen's usage amount C after each of its steps (macros/progressive/usage_steps.sql)
screen_usage as (
    {{ tally.progressive_usage_steps('screen_states') }}
),

-- per period and UTC day with a step: the highest lifetime usage of the day's screen steps
-- (a screened-only day's closing amount) and the highest before the day (H at least)
screen_days as (
    select
        days.*,
        greatest(days.historical_amount, coalesce(max(days.day_highest) over (
            partition by days.external_subscription_id, days.period_index order by days.event_day
            rows between unbounded preceding and 1 preceding
        ), days.historical_amount)) as highest_before
    from (
        select
            screen_usage.external_subscription_id,
            screen_usage.period_index,
            periods.plan_code,
            {{ tally.progressive_day('screen_usage.event_at') }} as event_day,
            max(periods.historical_amount) as historical_amount,
            max(periods.historical_amount + screen_usage.usage_amount) as day_highest
        from screen_usage
        inner join periods
            on screen_usage.external_subscription_id = periods.external_subscription_id
            and screen_usage.period_index = periods.period_index
        group by 1, 2, 3, 4
    ) as days
),

final as (
    select external_subscription_id, period_index, event_day
    from events
    where is_in_period and not is_screened
    union
    {{ tally.progressive_level_crossings('screen_days', ['external_subscription_id', 'period_index', 'event_day'],
        'highest_before', 'day_highest') }}
)

select * from final
