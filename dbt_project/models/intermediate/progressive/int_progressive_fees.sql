-- The lines of each progressive invoice (int_progressive_invoices): every price bucket of the
-- period with its cumulative usage and fee from the period start up to the triggering event
-- (events at the same timestamp included), as int_charge_fees would bill it if the period
-- ended there. Σ amount per invoice = the invoice's fees_amount.
-- Linear: each bucket state (int_progressive_states: event by event on every day a threshold
-- can be crossed, so on the days of the triggers; one state per bucket on other days, which
-- hold no trigger) is assigned to the first invoice triggered at or after it; an invoice
-- takes, per bucket, the latest state assigned to it or to an earlier invoice (one sort of the
-- invoiced periods' states). A charge filter's default bucket (0-unit start) is dropped once
-- the filter has had an event, as int_usage_by_period's grid does.
-- Left out (int_progressive_charges): weighted_sum_agg charges.
with invoices as (
    select * from {{ ref('int_progressive_invoices') }}
),

states as (
    select * from {{ ref('int_progressive_states') }}
),

charges as (
    select * from {{ ref('int_progressive_charges') }}
),

buckets as (
    select * from {{ ref('stg_charge_buckets') }}
),

invoiced_states as (
    select states.*
    from states
    inner join (
        select distinct external_subscription_id, period_index
        from invoices
    ) as invoiced_periods
        on states.external_subscription_id = invoiced_periods.external_subscription_id
        and states.period_index = invoiced_periods.period_index
),

-- states and invoice triggers on one timeline (start states first, then by time; a state
-- before an invoice triggered at the same instant): each state goes to the first invoice
-- triggered at or after it
assigned as (
    select *
    from (
        select
            external_subscription_id, period_index, charge_id, filter_index, group_key, ordinal,
            is_default_start, kind,
            min(progressive_seq) over (
                partition by external_subscription_id, period_index
                order by phase, event_at, kind
                rows between current row and unbounded following
            ) as first_seq
        from (
            select external_subscription_id, period_index, charge_id, filter_index, group_key, ordinal,
                is_default_start, case when is_start then 0 else 1 end as phase, event_at, 0 as kind,
                cast(null as bigint) as progressive_seq
            from invoiced_states
            union all
            select external_subscription_id, period_index, cast(null as {{ dbt.type_string() }}),
                cast(null as bigint), cast(null as {{ dbt.type_string() }}), cast(null as bigint), false, 1,
                triggered_at, 1, progressive_seq
            from invoices
        ) as timeline
    ) as stamped
    where kind = 0 and first_seq is not null
),

-- a bucket's latest state among those assigned to an invoice
latest_assigned as (
    select external_subscription_id, period_index, charge_id, filter_index, group_key, first_seq,
        max(ordinal) as ordinal
    from assigned
    group by 1, 2, 3, 4, 5, 6
),

filter_first_events as (
    select external_subscription_id, period_index, charge_id, filter_index, min(first_seq) as first_event_seq
    from assigned
    where ordinal > 0 and not is_default_start
    group by 1, 2, 3, 4
),

-- every invoice × every bucket known by then, with the invoice whose state it shows
grid as (
    select
        invoices.external_subscription_id,
        invoices.period_index,
        invoices.progressive_seq,
        known.charge_id,
        known.filter_index,
        known.group_key,
        max(case when latest_assigned.first_seq is not null then invoices.progressive_seq end) over (
            partition by invoices.external_subscription_id, invoices.period_index, known.charge_id,
                known.filter_index, known.group_key
            order by invoices.progressive_seq
            rows between unbounded preceding and current row
        ) as state_seq
    from invoices
    inner join (
        select external_subscription_id, period_index, charge_id, filter_index, group_key, min(first_seq) as first_seq
        from latest_assigned
        group by 1, 2, 3, 4, 5
    ) as known
        on invoices.external_subscription_id = known.external_subscription_id
        and invoices.period_index = known.period_index
        and invoices.progressive_seq >= known.first_seq
    left join latest_assigned
        on invoices.external_subscription_id = latest_assigned.external_subscription_id
        and invoices.period_index = latest_assigned.period_index
        and invoices.progressive_seq = latest_assigned.first_seq
        and known.charge_id = latest_assigned.charge_id
        and known.filter_index = latest_assigned.filter_index
        and known.group_key = latest_assigned.group_key
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
        on grid.external_subscription_id = chosen.external_subscription_id
        and grid.period_index = chosen.period_index
        and grid.state_seq = chosen.first_seq
        and grid.charge_id = chosen.charge_id
        and grid.filter_index = chosen.filter_index
        and grid.group_key = chosen.group_key
    inner join invoiced_states as state
        on chosen.external_subscription_id = state.external_subscription_id
        and chosen.period_index = state.period_index
        and chosen.charge_id = state.charge_id
        and chosen.filter_index = state.filter_index
        and chosen.group_key = state.group_key
        and chosen.ordinal = state.ordinal
    left join filter_first_events
        on grid.external_subscription_id = filter_first_events.external_subscription_id
        and grid.period_index = filter_first_events.period_index
        and grid.charge_id = filter_first_events.charge_id
        and grid.filter_index = filter_first_events.filter_index
    inner join charges
        on state.charge_id = charges.charge_id
    inner join buckets
        on state.charge_id = buckets.charge_id
        and state.filter_index = buckets.filter_index
    -- a charge filter's default bucket is gone once the filter has had an event
    where not (state.is_default_start and coalesce(filter_first_events.first_event_seq <= grid.progressive_seq, false))
)

select * from final
