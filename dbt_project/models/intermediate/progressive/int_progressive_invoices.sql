-- Progressive billing (Lago usage thresholds, reference §5): one row per progressive invoice,
-- issued inside a billable period when the subscription's LIFETIME usage crosses a threshold.
--
-- Lifetime usage after the events at a timestamp t of period p:
--   L(t) = H + C(t)
--   H    = Σ rounded charge fees (int_charge_fees) of the subscription's earlier periods
--   C(t) = Σ over the period's price buckets of the rounded amount billed with the events up
--          to t (the buckets at the period start — a first-tier flat at 0 units, recurring
--          carried units — included). Computed in linear time: each bucket's rounded amount
--          after each of its events (macros/progressive_billing.sql), C = start amount +
--          running Σ of the changes Δ of bucket amounts. Events at one timestamp are one step.
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
with {{ tally.progressive_bucket_states() }},

-- H: the rounded charge fees of the earlier periods
earlier_fees as (
    select
        pb_periods.period_key,
        coalesce(sum(per_period.period_amount) over (
            partition by pb_periods.external_subscription_id
            order by pb_periods.period_index
            rows between unbounded preceding and 1 preceding
        ), 0) as historical_amount
    from pb_periods
    left join (
        select external_subscription_id, period_index, sum(amount) as period_amount
        from {{ ref('int_charge_fees') }}
        group by 1, 2
    ) as per_period
        on pb_periods.external_subscription_id = per_period.external_subscription_id
        and pb_periods.period_index = per_period.period_index
),

-- the changes of the period's usage amount: at each event, the bucket's new rounded amount
-- minus its previous one; at a charge filter's first event, minus its default bucket's (the
-- 0-unit start, replaced by the event's own bucket); and the period's start amount (buckets
-- at the period start), counted at its first event, as Lago checks usage when events arrive
changes as (
    select period_key, event_at, amount - previous_amount as delta
    from pb_states
    where not is_start
    union all
    select firsts.period_key, firsts.first_event_at, -default_starts.amount
    from (
        select period_key, charge_key, filter_index, min(event_at) as first_event_at
        from pb_states
        where not is_start
        group by 1, 2, 3
    ) as firsts
    inner join pb_states as default_starts
        on firsts.period_key = default_starts.period_key
        and firsts.charge_key = default_starts.charge_key
        and firsts.filter_index = default_starts.filter_index
        and default_starts.is_default_start
    union all
    select starts.period_key, firsts.first_event_at, starts.start_amount
    from (
        select period_key, sum(amount) as start_amount
        from pb_states
        where is_start
        group by 1
    ) as starts
    inner join (
        select period_key, min(event_at) as first_event_at
        from pb_states
        where not is_start
        group by 1
    ) as firsts
        on starts.period_key = firsts.period_key
),

-- one step per timestamp (events at the same instant are evaluated together); a step that
-- changes nothing cannot cross a level, and is left out
steps as (
    select period_key, event_at, sum(delta) as delta
    from changes
    group by 1, 2
    having sum(delta) <> 0
),

lifetime as (
    select
        steps.period_key,
        steps.event_at,
        earlier_fees.historical_amount,
        sum(steps.delta) over (
            partition by steps.period_key
            order by steps.event_at
            rows between unbounded preceding and current row
        ) as usage_amount
    from steps
    inner join earlier_fees
        on steps.period_key = earlier_fees.period_key
),

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
    from lifetime
),

plan_levels as (
    select
        plan_code,
        coalesce(max(case when not is_recurring then amount end), 0) as largest_fixed,
        max(case when is_recurring then amount end) as recurring_amount
    from pb_thresholds
    group by 1
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
