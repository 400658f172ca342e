-- Progressive billing (Lago usage thresholds, reference §5): one row per progressive invoice,
-- issued inside a billable period when the subscription's LIFETIME usage crosses a threshold.
--
-- Lifetime usage after the events at a timestamp t of period p:
--   L(t) = H + C(t)
--   H    = Σ rounded charge fees (int_charge_fees) and charge true-ups (int_charge_true_ups)
--          of the subscription's earlier periods
--   C(t) = Σ over the period's price buckets of the rounded amount billed with the events up
--          to t (the buckets at the period start — a first-tier flat at 0 units, recurring
--          carried units — included). Computed in linear time: each bucket's rounded amount
--          after each of its states (macros/progressive_billing.sql), C = start amount +
--          running Σ of the changes Δ of bucket amounts. Events at one timestamp are one step.
-- Two passes. The screen prices every screened charge one state per bucket and day (its
-- amount only rises within a day, so the day's closing amount bounds it); a day is replayed
-- event by event when a level can lie between the highest lifetime usage reached before it
-- (a lower bound: the screen's own steps never exceed the real usage at their instant) and
-- the day's closing one, or when it mixes screened and other charges' events. The second
-- pass is exact where a threshold can be crossed, and crosses none elsewhere.
-- Threshold levels of a plan: each fixed amount, and with a recurring amount r each k·r above
-- the largest fixed amount F (0 if none).
-- Lago's check_service passes a threshold when invoiced < level <= invoiced + actual, where
-- invoiced = H + the period's latest progressive invoice: the lower bound is the lifetime
-- usage at the latest trigger (H before the first). As no level can lie between that and the
-- highest L reached since (it would have triggered), this is: a step at t triggers when a level
-- λ has  M(before t) < λ <= L(t),  M = the running max of L over the period's steps, starting
-- at H — for a non-decreasing L simply L(before) < λ <= L(after). One invoice per step however
-- many levels it crosses. The first step compares with H, so a level crossed by the period's
-- start amount alone (a flat fee at 0 units) triggers at the period's first event, as in Lago,
-- where usage is checked when an event arrives.
-- Left out (see the macro): weighted_sum_agg charges do not count in C(t) (they do in H).
-- Incremental by period: a build replays only the periods that new events or changed period
-- definitions touch, and the periods after them (macros/incremental/periods_to_rate.sql).
-- depends_on: {{ ref('int_usage_daily') }}, {{ ref('int_unique_ids_daily') }}
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    pre_hook="{{ tally.delete_periods_to_rate() }}",
    post_hook="{{ tally.save_rated_periods() }}",
) }}
with
{%- if is_incremental() %}
periods_to_rate as (
    {{ tally.periods_to_rate() }}
),
{%- endif %}

{{ tally.progressive_inputs('periods_to_rate' if is_incremental() else none) }},

-- H: the rounded charge fees of the subscription's earlier periods (all of them, rated again
-- or not), charge minimums' true-ups included: Lago's lifetime usage sums every `charge` fee of
-- the subscription's invoices (lifetime_usages/calculate_service), and a true-up is a copy of
-- the charge's fee (fees/create_true_up_service)
earlier_fees as (
    select
        pb_periods.period_key,
        coalesce(cumulative.historical_amount, 0) as historical_amount
    from pb_periods
    left join (
        select
            billable.external_subscription_id,
            billable.period_index,
            sum(per_period.period_amount) over (
                partition by billable.external_subscription_id
                order by billable.period_index
                rows between unbounded preceding and 1 preceding
            ) as historical_amount
        from {{ ref('int_billing_periods') }} as billable
        inner join (select distinct external_subscription_id from pb_periods) as rated
            on billable.external_subscription_id = rated.external_subscription_id
        left join (
            select external_subscription_id, period_index, sum(amount) as period_amount
            from (
                select external_subscription_id, period_index, amount
                from {{ ref('int_charge_fees') }}
                union all
                select external_subscription_id, period_index, amount
                from {{ ref('int_charge_true_ups') }}
            ) as period_charge_fees
            group by 1, 2
        ) as per_period
            on billable.external_subscription_id = per_period.external_subscription_id
            and billable.period_index = per_period.period_index
        where billable.is_billable
    ) as cumulative
        on pb_periods.external_subscription_id = cumulative.external_subscription_id
        and pb_periods.period_index = cumulative.period_index
),

{{ tally.progressive_unit_states('screen_units') }},

{{ tally.progressive_priced_states('screen', 'screen_units') }},

{{ tally.progressive_lifetime('screen', 'screen_states') }},

plan_levels as (
    select
        plan_code,
        coalesce(max(case when not is_recurring then amount end), 0) as largest_fixed,
        max(case when is_recurring then amount end) as recurring_amount
    from pb_thresholds
    group by 1
),

-- per period and UTC day with a step: the highest lifetime usage of the day's screen steps
-- (a screened-only day's closing amount) and the highest before the day (H at least)
screen_days as (
    select
        days.*,
        pb_periods.plan_code,
        greatest(days.historical_amount, coalesce(max(days.day_highest) over (
            partition by days.period_key order by days.event_day
            rows between unbounded preceding and 1 preceding
        ), days.historical_amount)) as highest_before
    from (
        select
            period_key,
            {{ tally.pb_day('event_at') }} as event_day,
            max(historical_amount) as historical_amount,
            max(historical_amount + usage_amount) as day_highest
        from screen_lifetime
        group by 1, 2
    ) as days
    inner join pb_periods
        on days.period_key = pb_periods.period_key
),

-- the days replayed event by event: those that mix screened and other charges' events, and
-- those where a fixed level or a multiple of the recurring one can be crossed
replay_days as (
    select period_key, event_day
    from pb_windowed
    where is_in_period and not is_screened
    union
    select screen_days.period_key, screen_days.event_day
    from screen_days
    inner join pb_thresholds
        on screen_days.plan_code = pb_thresholds.plan_code
        and not pb_thresholds.is_recurring
        and pb_thresholds.amount > screen_days.highest_before
        and pb_thresholds.amount <= screen_days.day_highest
    union
    select screen_days.period_key, screen_days.event_day
    from screen_days
    inner join plan_levels
        on screen_days.plan_code = plan_levels.plan_code
    where plan_levels.recurring_amount is not null
        and floor({{ tally.divide('screen_days.day_highest', 'plan_levels.recurring_amount') }})
            > floor({{ tally.divide('greatest(screen_days.highest_before, plan_levels.largest_fixed)', 'plan_levels.recurring_amount') }})
),

{{ tally.progressive_unit_states('exact_units', 'replay_days') }},

{{ tally.progressive_priced_states('exact', 'exact_units') }},

{{ tally.progressive_lifetime('exact', 'exact_states') }},

-- M: the highest lifetime usage reached before the step (H before the first) and after it
rising as (
    select
        lifetime.*,
        lifetime.historical_amount + lifetime.usage_amount as lifetime_amount,
        greatest(lifetime.historical_amount, coalesce(max(lifetime.historical_amount + lifetime.usage_amount) over (
            partition by lifetime.period_key
            order by lifetime.event_at
            rows between unbounded preceding and 1 preceding
        ), lifetime.historical_amount)) as highest_before,
        greatest(lifetime.historical_amount, max(lifetime.historical_amount + lifetime.usage_amount) over (
            partition by lifetime.period_key
            order by lifetime.event_at
            rows between unbounded preceding and current row
        )) as highest_after
    from exact_lifetime as lifetime
),

candidates as (
    select rising.*, pb_periods.plan_code
    from rising
    inner join pb_periods
        on rising.period_key = pb_periods.period_key
    where rising.highest_after > rising.highest_before
),

fixed_crossings as (
    select candidates.period_key, candidates.event_at
    from candidates
    inner join pb_thresholds
        on candidates.plan_code = pb_thresholds.plan_code
        and not pb_thresholds.is_recurring
        and pb_thresholds.amount > candidates.highest_before
        and pb_thresholds.amount <= candidates.highest_after
),

-- a multiple of r above max(F, M before) and at most M after
recurring_crossings as (
    select candidates.period_key, candidates.event_at
    from candidates
    inner join plan_levels
        on candidates.plan_code = plan_levels.plan_code
    where plan_levels.recurring_amount is not null
        and floor({{ tally.divide('candidates.highest_after', 'plan_levels.recurring_amount') }})
            > floor({{ tally.divide('greatest(candidates.highest_before, plan_levels.largest_fixed)', 'plan_levels.recurring_amount') }})
),

triggers as (
    select distinct period_key, event_at
    from (
        select * from fixed_crossings
        union all
        select * from recurring_crossings
    ) as crossings
),

invoices as (
    select
        pb_periods.external_subscription_id,
        pb_periods.external_customer_id,
        pb_periods.currency,
        pb_periods.period_index,
        row_number() over (
            partition by candidates.period_key
            order by candidates.event_at
        ) as progressive_seq,
        candidates.event_at as triggered_at,
        cast({{ tally.utc_to_local('candidates.event_at', 'pb_periods.timezone') }} as date) as issuing_date,
        cast(candidates.lifetime_amount as {{ tally.money_type() }}) as lifetime_usage_amount,
        cast(candidates.usage_amount as {{ tally.money_type() }}) as fees_amount
    from candidates
    inner join triggers
        on candidates.period_key = triggers.period_key
        and candidates.event_at = triggers.event_at
    inner join pb_periods
        on candidates.period_key = pb_periods.period_key
),

final as (
    select
        external_subscription_id,
        external_customer_id,
        currency,
        period_index,
        progressive_seq,
        triggered_at,
        issuing_date,
        lifetime_usage_amount,
        fees_amount,
        coalesce(lag(fees_amount) over (
            partition by external_subscription_id, period_index
            order by progressive_seq
        ), cast(0 as {{ tally.money_type() }})) as previous_fees_amount
    from invoices
)

select * from final
