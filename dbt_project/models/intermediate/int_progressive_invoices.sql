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
        pb_periods.external_subscription_id,
        pb_periods.period_index,
        coalesce(sum(fees.amount), 0) as historical_amount
    from pb_periods
    left join {{ ref('int_charge_fees') }} as fees
        on pb_periods.external_subscription_id = fees.external_subscription_id
        and fees.period_index < pb_periods.period_index
    group by 1, 2
),

start_amounts as (
    select external_subscription_id, period_index, sum(amount) as start_amount
    from pb_states
    where is_start
    group by 1, 2
),

-- the change of the period's usage amount at each event: the bucket's new amount minus its
-- previous one (its carried start, or 0 for a new bucket); the charge filter's first event
-- also removes its default bucket (0-unit start), which the event's own bucket replaces
bucket_deltas as (
    select
        external_subscription_id,
        period_index,
        charge_id,
        filter_index,
        is_start,
        event_at,
        source_file,
        line_number,
        file_checksum,
        amount - coalesce(lag(amount) over (
            partition by external_subscription_id, period_index, charge_id, filter_index, group_key
            order by is_start desc, event_at, source_file, line_number, file_checksum
        ), 0) as bucket_delta
    from pb_states
    where not is_default_start
),

default_starts as (
    select external_subscription_id, period_index, charge_id, filter_index, amount as default_amount
    from pb_states
    where is_default_start
),

event_deltas as (
    select
        bucket_deltas.external_subscription_id,
        bucket_deltas.period_index,
        bucket_deltas.event_at,
        bucket_deltas.bucket_delta - case
            when row_number() over (
                partition by bucket_deltas.external_subscription_id, bucket_deltas.period_index,
                    bucket_deltas.charge_id, bucket_deltas.filter_index
                order by bucket_deltas.event_at, bucket_deltas.source_file, bucket_deltas.line_number,
                    bucket_deltas.file_checksum
            ) = 1 then coalesce(default_starts.default_amount, 0)
            else 0
        end as delta
    from bucket_deltas
    left join default_starts
        on bucket_deltas.external_subscription_id = default_starts.external_subscription_id
        and bucket_deltas.period_index = default_starts.period_index
        and bucket_deltas.charge_id = default_starts.charge_id
        and bucket_deltas.filter_index = default_starts.filter_index
    where not bucket_deltas.is_start
),

steps as (
    select external_subscription_id, period_index, event_at, sum(delta) as delta
    from event_deltas
    group by 1, 2, 3
),

lifetime as (
    select
        steps.external_subscription_id,
        steps.period_index,
        steps.event_at,
        earlier_fees.historical_amount,
        coalesce(start_amounts.start_amount, 0) + sum(steps.delta) over (
            partition by steps.external_subscription_id, steps.period_index
            order by steps.event_at
            rows between unbounded preceding and current row
        ) as usage_amount
    from steps
    inner join earlier_fees
        on steps.external_subscription_id = earlier_fees.external_subscription_id
        and steps.period_index = earlier_fees.period_index
    left join start_amounts
        on steps.external_subscription_id = start_amounts.external_subscription_id
        and steps.period_index = start_amounts.period_index
),

highest as (
    select
        *,
        historical_amount + usage_amount as lifetime_amount,
        greatest(historical_amount, max(historical_amount + usage_amount) over (
            partition by external_subscription_id, period_index
            order by event_at
            rows between unbounded preceding and current row
        )) as highest_after
    from lifetime
),

rising as (
    select
        highest.*,
        coalesce(lag(highest.highest_after) over (
            partition by highest.external_subscription_id, highest.period_index
            order by highest.event_at
        ), highest.historical_amount) as highest_before,
        pb_periods.plan_code
    from highest
    inner join pb_periods
        on highest.external_subscription_id = pb_periods.external_subscription_id
        and highest.period_index = pb_periods.period_index
),

plan_levels as (
    select
        plan_code,
        coalesce(max(case when not is_recurring then amount end), 0) as largest_fixed,
        max(case when is_recurring then amount end) as recurring_amount
    from pb_thresholds
    group by 1
),

fixed_crossings as (
    select rising.external_subscription_id, rising.period_index, rising.event_at
    from rising
    inner join pb_thresholds
        on rising.plan_code = pb_thresholds.plan_code
        and not pb_thresholds.is_recurring
        and pb_thresholds.amount > rising.highest_before
        and pb_thresholds.amount <= rising.highest_after
    where rising.highest_after > rising.highest_before
),

-- a multiple of r above max(F, M(before)) and at most L
recurring_crossings as (
    select rising.external_subscription_id, rising.period_index, rising.event_at
    from rising
    inner join plan_levels
        on rising.plan_code = plan_levels.plan_code
    where rising.highest_after > rising.highest_before
        and plan_levels.recurring_amount is not null
        and floor({{ tally.divide('rising.highest_after', 'plan_levels.recurring_amount') }})
            > floor({{ tally.divide('greatest(rising.highest_before, plan_levels.largest_fixed)', 'plan_levels.recurring_amount') }})
),

triggers as (
    select distinct external_subscription_id, period_index, event_at
    from (
        select * from fixed_crossings
        union all
        select * from recurring_crossings
    ) as crossings
),

invoices as (
    select
        rising.external_subscription_id,
        pb_periods.external_customer_id,
        pb_periods.currency,
        rising.period_index,
        row_number() over (
            partition by rising.external_subscription_id, rising.period_index
            order by rising.event_at
        ) as progressive_seq,
        rising.event_at as triggered_at,
        cast({{ tally.utc_to_local('rising.event_at', 'pb_periods.timezone') }} as date) as issuing_date,
        cast(rising.lifetime_amount as {{ tally.money_type() }}) as lifetime_usage_amount,
        cast(rising.usage_amount as {{ tally.money_type() }}) as fees_amount
    from rising
    inner join triggers
        on rising.external_subscription_id = triggers.external_subscription_id
        and rising.period_index = triggers.period_index
        and rising.event_at = triggers.event_at
    inner join pb_periods
        on rising.external_subscription_id = pb_periods.external_subscription_id
        and rising.period_index = pb_periods.period_index
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
