-- The lines of each progressive invoice (int_progressive_invoices): every price bucket of the
-- period with its cumulative usage and fee from the period start up to the triggering event
-- (events at the same timestamp included), as int_charge_fees would bill it if the period
-- ended there. Σ amount per invoice = the invoice's fees_amount.
-- Linear: each bucket state (macros/progressive_billing.sql) is assigned to the first invoice
-- triggered at or after it; an invoice takes, per bucket, the latest state assigned to it or
-- to an earlier invoice. A charge filter's default bucket (0-unit start) is dropped once the
-- filter has had an event, as int_usage_by_period's grid does.
-- Left out (see the macro): weighted_sum_agg charges.
with invoices as (
    select * from {{ ref('int_progressive_invoices') }}
),

invoiced_periods as (
    select distinct external_subscription_id, period_index
    from invoices
),

{{ tally.progressive_bucket_states('invoiced_periods') }},

-- states and invoice triggers on one timeline: start states first, then by time, a state
-- before an invoice triggered at the same instant
timeline as (
    select
        external_subscription_id, period_index, charge_id, filter_index, group_key,
        is_start, is_default_start, event_at, source_file, line_number, file_checksum,
        units, events_count, precise_amount, amount,
        case when is_start then 0 else 1 end as phase,
        0 as kind,
        cast(null as bigint) as progressive_seq
    from pb_states
    union all
    select
        external_subscription_id, period_index,
        cast(null as {{ dbt.type_string() }}), cast(null as bigint), cast(null as {{ dbt.type_string() }}),
        false, false, triggered_at, cast(null as {{ dbt.type_string() }}), cast(null as bigint),
        cast(null as {{ dbt.type_string() }}),
        {{ tally.to_num('null') }}, cast(null as bigint), {{ tally.to_num('null') }}, cast(null as {{ tally.money_type() }}),
        1, 1, progressive_seq
    from invoices
),

assigned as (
    select *
    from (
        select
            timeline.*,
            min(progressive_seq) over (
                partition by external_subscription_id, period_index
                order by phase, event_at, kind
                rows between current row and unbounded following
            ) as first_seq
        from timeline
    ) as stamped
    where kind = 0 and first_seq is not null
),

-- a bucket's latest state per invoice it is assigned to
latest_assigned as (
    select *
    from (
        select
            assigned.*,
            row_number() over (
                partition by external_subscription_id, period_index, charge_id, filter_index, group_key, first_seq
                order by phase desc, event_at desc, source_file desc, line_number desc, file_checksum desc
            ) as recency_rank
        from assigned
    ) as ranked
    where recency_rank = 1
),

filter_first_events as (
    select external_subscription_id, period_index, charge_id, filter_index, min(first_seq) as first_event_seq
    from assigned
    where not is_start
    group by 1, 2, 3, 4
),

-- every invoice × every bucket known by then, with the invoice whose state it shows
grid as (
    select
        invoices.external_subscription_id,
        invoices.period_index,
        invoices.progressive_seq,
        buckets.charge_id,
        buckets.filter_index,
        buckets.group_key,
        max(case when latest_assigned.first_seq is not null then invoices.progressive_seq end) over (
            partition by invoices.external_subscription_id, invoices.period_index,
                buckets.charge_id, buckets.filter_index, buckets.group_key
            order by invoices.progressive_seq
            rows between unbounded preceding and current row
        ) as state_seq
    from invoices
    inner join (
        select external_subscription_id, period_index, charge_id, filter_index, group_key, min(first_seq) as first_seq
        from latest_assigned
        group by 1, 2, 3, 4, 5
    ) as buckets
        on invoices.external_subscription_id = buckets.external_subscription_id
        and invoices.period_index = buckets.period_index
        and invoices.progressive_seq >= buckets.first_seq
    left join latest_assigned
        on invoices.external_subscription_id = latest_assigned.external_subscription_id
        and invoices.period_index = latest_assigned.period_index
        and invoices.progressive_seq = latest_assigned.first_seq
        and buckets.charge_id = latest_assigned.charge_id
        and buckets.filter_index = latest_assigned.filter_index
        and buckets.group_key = latest_assigned.group_key
),

final as (
    select
        grid.external_subscription_id,
        grid.period_index,
        grid.progressive_seq,
        grid.charge_id,
        grid.filter_index,
        grid.group_key,
        charges.billable_metric_code,
        coalesce(buckets.invoice_display_name, charges.invoice_display_name, charges.billable_metric_code)
            as display_name,
        state.units,
        state.events_count,
        state.precise_amount,
        state.amount
    from grid
    inner join latest_assigned as state
        on grid.external_subscription_id = state.external_subscription_id
        and grid.period_index = state.period_index
        and grid.state_seq = state.first_seq
        and grid.charge_id = state.charge_id
        and grid.filter_index = state.filter_index
        and grid.group_key = state.group_key
    left join filter_first_events
        on grid.external_subscription_id = filter_first_events.external_subscription_id
        and grid.period_index = filter_first_events.period_index
        and grid.charge_id = filter_first_events.charge_id
        and grid.filter_index = filter_first_events.filter_index
    inner join pb_charges as charges
        on grid.charge_id = charges.charge_id
    inner join pb_buckets as buckets
        on grid.charge_id = buckets.charge_id
        and grid.filter_index = buckets.filter_index
    where not (state.is_default_start and coalesce(filter_first_events.first_event_seq <= grid.progressive_seq, false))
)

select * from final
