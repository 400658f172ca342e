-- Progressive billing (Lago usage thresholds, reference §5): one row per progressive invoice,
-- issued inside a billable period when the subscription's LIFETIME usage crosses a threshold.
--
-- Lifetime usage after the events at a timestamp t of period p:
--   L(t) = H + C(t)
--   H    = Σ rounded charge fees (int_charge_fees) and charge true-ups (int_charge_true_ups)
--          of the subscription's earlier periods
--   C(t) = Σ over the period's price buckets of the rounded amount billed with the events up
--          to t (the buckets at the period start — a first-tier flat at 0 units, recurring
--          carried units — included). Computed in linear time from the bucket states
--          (int_progressive_states: exact on the days where a threshold can be crossed, one
--          state per bucket and day elsewhere): C = start amount + running Σ of the changes Δ
--          of bucket amounts (macros/progressive/usage_steps.sql). Events at one timestamp
--          are one step. H is int_progressive_periods.historical_amount.
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
-- Left out (int_progressive_charges): weighted_sum_agg charges do not count in C(t) (they do in H).
-- Incremental by period: a build replays only the periods that new events or changed period
-- definitions touch, and the periods after them (macros/incremental/periods_to_rate.sql).
-- depends_on: {{ ref('int_usage_daily') }}, {{ ref('int_unique_ids_daily') }}, {{ ref('int_billing_periods') }}
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    pre_hook="{{ tally.delete_periods_to_rate() }}",
    post_hook="{{ tally.save_rated_periods() }}",
) }}
with states as (
    {{ tally.rows_to_rate(ref('int_progressive_states')) }}
),

periods as (
    {{ tally.rows_to_rate(ref('int_progressive_periods')) }}
),

-- C after each step, and the lifetime usage H + C
usage_steps as (
    {{ tally.progressive_usage_steps('states') }}
),

-- M: the highest lifetime usage reached before the step (H before the first) and after it
rising as (
    select
        lifetime.*,
        greatest(lifetime.historical_amount, coalesce(max(lifetime.lifetime_amount) over (
            partition by lifetime.external_subscription_id, lifetime.period_index
            order by lifetime.event_at
            rows between unbounded preceding and 1 preceding
        ), lifetime.historical_amount)) as highest_before,
        greatest(lifetime.historical_amount, max(lifetime.lifetime_amount) over (
            partition by lifetime.external_subscription_id, lifetime.period_index
            order by lifetime.event_at
            rows between unbounded preceding and current row
        )) as highest_after
    from (
        select
            usage_steps.*,
            periods.plan_code,
            periods.historical_amount,
            periods.historical_amount + usage_steps.usage_amount as lifetime_amount
        from usage_steps
        inner join periods
            on usage_steps.external_subscription_id = periods.external_subscription_id
            and usage_steps.period_index = periods.period_index
    ) as lifetime
),

candidates as (
    select *
    from rising
    where highest_after > highest_before
),

-- a step where a level lies in (M before, M after]: one invoice however many levels it crosses
triggers as (
    {{ tally.progressive_level_crossings('candidates', ['external_subscription_id', 'period_index', 'event_at'],
        'highest_before', 'highest_after') }}
),

invoices as (
    select
        periods.external_subscription_id,
        periods.external_customer_id,
        periods.currency,
        periods.period_index,
        row_number() over (
            partition by candidates.external_subscription_id, candidates.period_index
            order by candidates.event_at
        ) as progressive_seq,
        candidates.event_at as triggered_at,
        cast({{ tally.utc_to_local('candidates.event_at', 'periods.timezone') }} as date) as issuing_date,
        cast(candidates.lifetime_amount as {{ tally.money_type() }}) as lifetime_usage_amount,
        cast(candidates.usage_amount as {{ tally.money_type() }}) as fees_amount
    from candidates
    inner join triggers
        on candidates.external_subscription_id = triggers.external_subscription_id
        and candidates.period_index = triggers.period_index
        and candidates.event_at = triggers.event_at
    inner join periods
        on candidates.external_subscription_id = periods.external_subscription_id
        and candidates.period_index = periods.period_index
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
