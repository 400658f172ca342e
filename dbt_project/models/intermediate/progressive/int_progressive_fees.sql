-- The lines of each progressive invoice (int_progressive_invoices): every price bucket of the
-- period with its cumulative usage and fee from the period start up to the triggering event
-- (events at the same timestamp included), as int_charge_fees would bill it if the period
-- ended there. Σ amount per invoice = the invoice's fees_amount.
-- Linear: each bucket state (macros/progressive_billing.sql; event by event on the days of
-- the triggers, one state per bucket on other days) is assigned to the first invoice
-- triggered at or after it; an invoice takes, per bucket, the latest state assigned to it or
-- to an earlier invoice (one sort of the invoiced periods' states). A charge filter's default bucket (0-unit start) is dropped once the
-- filter has had an event, as int_usage_by_period's grid does.
-- Left out (see the macro): weighted_sum_agg charges.
with invoices as (
    select * from {{ ref('int_progressive_invoices') }}
),

invoiced_periods as (
    select distinct external_subscription_id, period_index
    from invoices
),

{{ tally.progressive_inputs('invoiced_periods') }},

-- an invoice shows every bucket's state at its trigger: the days of the triggers are
-- replayed event by event, every other day is one state per bucket (no trigger in it)
replay_days as (
    select distinct pb_periods.period_key, {{ tally.pb_day('invoices.triggered_at') }} as event_day
    from invoices
    inner join pb_periods
        on invoices.external_subscription_id = pb_periods.external_subscription_id
        and invoices.period_index = pb_periods.period_index
),

{{ tally.progressive_unit_states('pb_unit_states', 'replay_days') }},

{{ tally.progressive_priced_states('pb', 'pb_unit_states') }},

invoice_points as (
    select invoices.*, pb_periods.period_key
    from invoices
    inner join pb_periods
        on invoices.external_subscription_id = pb_periods.external_subscription_id
        and invoices.period_index = pb_periods.period_index
),

-- states and invoice triggers on one timeline (start states first, then by time; a state
-- before an invoice triggered at the same instant): each state goes to the first invoice
-- triggered at or after it
assigned as (
    select *
    from (
        select
            period_key, charge_key, filter_index, group_key, ordinal, is_default_start, kind,
            min(progressive_seq) over (
                partition by period_key
                order by phase, event_at, kind
                rows between current row and unbounded following
            ) as first_seq
        from (
            select period_key, charge_key, filter_index, group_key, ordinal, is_default_start,
                case when is_start then 0 else 1 end as phase, event_at, 0 as kind,
                cast(null as bigint) as progressive_seq
            from pb_states
            union all
            select period_key, cast(null as bigint), cast(null as bigint), cast(null as {{ dbt.type_string() }}),
                cast(null as bigint), false, 1, triggered_at, 1, progressive_seq
            from invoice_points
        ) as timeline
    ) as stamped
    where kind = 0 and first_seq is not null
),

-- a bucket's latest state among those assigned to an invoice
latest_assigned as (
    select period_key, charge_key, filter_index, group_key, first_seq, max(ordinal) as ordinal
    from assigned
    group by 1, 2, 3, 4, 5
),

filter_first_events as (
    select period_key, charge_key, filter_index, min(first_seq) as first_event_seq
    from assigned
    where ordinal > 0 and not is_default_start
    group by 1, 2, 3
),

-- every invoice × every bucket known by then, with the invoice whose state it shows
grid as (
    select
        invoice_points.period_key,
        invoice_points.progressive_seq,
        buckets.charge_key,
        buckets.filter_index,
        buckets.group_key,
        max(case when latest_assigned.first_seq is not null then invoice_points.progressive_seq end) over (
            partition by invoice_points.period_key, buckets.charge_key, buckets.filter_index, buckets.group_key
            order by invoice_points.progressive_seq
            rows between unbounded preceding and current row
        ) as state_seq
    from invoice_points
    inner join (
        select period_key, charge_key, filter_index, group_key, min(first_seq) as first_seq
        from latest_assigned
        group by 1, 2, 3, 4
    ) as buckets
        on invoice_points.period_key = buckets.period_key
        and invoice_points.progressive_seq >= buckets.first_seq
    left join latest_assigned
        on invoice_points.period_key = latest_assigned.period_key
        and invoice_points.progressive_seq = latest_assigned.first_seq
        and buckets.charge_key = latest_assigned.charge_key
        and buckets.filter_index = latest_assigned.filter_index
        and buckets.group_key = latest_assigned.group_key
),

final as (
    select
        state.external_subscription_id,
        state.period_index,
        grid.progressive_seq,
        state.charge_id,
        state.filter_index,
        state.group_key,
        charges.billable_metric_code,
        coalesce(buckets.invoice_display_name, charges.invoice_display_name, charges.billable_metric_code)
            as display_name,
        state.units,
        state.events_count,
        state.precise_amount,
        state.amount
    from grid
    inner join latest_assigned as chosen
        on grid.period_key = chosen.period_key
        and grid.state_seq = chosen.first_seq
        and grid.charge_key = chosen.charge_key
        and grid.filter_index = chosen.filter_index
        and grid.group_key = chosen.group_key
    inner join pb_states as state
        on chosen.period_key = state.period_key
        and chosen.charge_key = state.charge_key
        and chosen.filter_index = state.filter_index
        and chosen.group_key = state.group_key
        and chosen.ordinal = state.ordinal
    left join filter_first_events
        on grid.period_key = filter_first_events.period_key
        and grid.charge_key = filter_first_events.charge_key
        and grid.filter_index = filter_first_events.filter_index
    inner join pb_charges as charges
        on state.charge_key = charges.charge_key
    inner join pb_buckets as buckets
        on state.charge_id = buckets.charge_id
        and state.filter_index = buckets.filter_index
    -- a charge filter's default bucket is gone once the filter has had an event
    where not (state.is_default_start and coalesce(filter_first_events.first_event_seq <= grid.progressive_seq, false))
)

select * from final
