{#- Progressive billing (Lago usage thresholds, reference §5): the state of every price bucket
    of a billable period after each of its events, in linear time — running meters by window
    functions, then the charge-model macros applied once per state, then rounded per fee.

    Emits CTEs (no leading `with`), shared by int_progressive_invoices and int_progressive_fees:
      pb_periods   billable periods of the subscriptions whose plan has usage thresholds
                   (restricted to the periods of `period_filter`, a relation with
                   external_subscription_id and period_index, when given);
      pb_states    one row per bucket state:
                   - a start state (is_start) per bucket that exists at the period start:
                     a recurring bucket with units carried from earlier periods, or, for a
                     charge filter with nothing carried, its default bucket (group_key '',
                     is_default_start) at 0 units — a graduated first-tier flat, a volume first
                     range flat. That default bucket goes away at the filter's first event
                     when the event belongs to a pricing group (as in int_usage_by_period's
                     grid, which keeps it only for a filter without events);
                   - an event state after each in-period event of the bucket.
                   With units (metric rounding applied), events_count (as int_usage_by_period:
                   a recurring bucket counts its carried events), precise_amount (the model's
                   amount, negatives 0) and amount (rounded to the currency's minor unit), as
                   int_charge_fees would bill the bucket if the period ended at that event.
    Events are ordered by (event_at, source_file, line_number, file_checksum), as
    int_usage_by_period picks the latest value.

    Left out of progressive billing: weighted_sum_agg charges (their usage depends on time
    elapsed, not only on events). All the other aggregations and charge models are in,
    percentage with free units and per-transaction min/max included. -#}
{% macro progressive_bucket_states(period_filter=none) -%}
pb_thresholds as (
    select * from {{ ref('stg_usage_thresholds') }}
),

pb_periods as (
    select periods.*
    from {{ ref('int_billing_periods') }} as periods
    {%- if period_filter %}
    inner join {{ period_filter }} as period_filter
        on periods.external_subscription_id = period_filter.external_subscription_id
        and periods.period_index = period_filter.period_index
    {%- endif %}
    where periods.is_billable
        and periods.plan_code in (select plan_code from pb_thresholds)
),

pb_charges as (
    select
        charges.charge_id,
        charges.plan_code,
        charges.billable_metric_code,
        charges.charge_model,
        charges.invoice_display_name,
        metrics.aggregation_type,
        metrics.rounding_function,
        metrics.rounding_precision
    from {{ ref('stg_charges') }} as charges
    inner join {{ ref('stg_billable_metrics') }} as metrics
        on charges.billable_metric_code = metrics.billable_metric_code
    -- left out of progressive billing (see above)
    where metrics.aggregation_type <> 'weighted_sum_agg'
),

pb_buckets as (
    select * from {{ ref('stg_charge_buckets') }}
),

pb_tiers as (
    select
        *,
        lag(to_value) over (partition by charge_id, filter_index order by tier_index) as previous_to_value
    from {{ ref('stg_charge_tiers') }}
),

pb_currencies as (
    select * from {{ ref('currencies') }}
),

-- the events each period's meters see (as int_usage_by_period): the period's own, and for a
-- recurring metric every earlier one too (carried)
pb_windowed as (
    select
        pb_periods.external_subscription_id,
        pb_periods.period_index,
        pb_periods.currency,
        charge_events.charge_id,
        charge_events.filter_index,
        charge_events.group_key,
        pb_charges.charge_model,
        pb_charges.aggregation_type,
        pb_charges.rounding_function,
        pb_charges.rounding_precision,
        charge_events.event_at,
        charge_events.source_file,
        charge_events.line_number,
        charge_events.file_checksum,
        charge_events.event_value,
        charge_events.field_value_text,
        charge_events.operation_type = 'remove' as is_remove,
        charge_events.event_at >= pb_periods.from_at as is_in_period
    from pb_periods
    inner join {{ ref('int_charge_events') }} as charge_events
        on pb_periods.external_subscription_id = charge_events.external_subscription_id
        and charge_events.event_at < pb_periods.to_at
        and (charge_events.is_recurring or charge_events.event_at >= pb_periods.from_at)
    inner join pb_charges
        on charge_events.charge_id = pb_charges.charge_id
),

-- unique_count: each event adds +1 (add after a remove), -1 (remove after an add) or 0 (same
-- operation as the id's previous one, the first one compared with `remove`): Lago's
-- operation_value; the running sum is the number of ids whose last operation is `add`
pb_contributions as (
    select
        pb_windowed.*,
        case
            when is_remove = coalesce(lag(is_remove) over (
                partition by external_subscription_id, period_index, charge_id, filter_index, group_key,
                    field_value_text
                order by event_at, source_file, line_number, file_checksum), true) then 0
            when is_remove then -1
            else 1
        end as unique_contribution
    from pb_windowed
    where aggregation_type = 'unique_count_agg'
    union all
    select pb_windowed.*, 0 as unique_contribution
    from pb_windowed
    where aggregation_type <> 'unique_count_agg'
),

pb_running as (
    select
        pb_contributions.*,
        count(*) over (
            partition by external_subscription_id, period_index, charge_id, filter_index, group_key
            order by event_at, source_file, line_number, file_checksum
            rows between unbounded preceding and current row
        ) as running_events,
        sum(event_value) over (
            partition by external_subscription_id, period_index, charge_id, filter_index, group_key
            order by event_at, source_file, line_number, file_checksum
            rows between unbounded preceding and current row
        ) as running_sum,
        max(event_value) over (
            partition by external_subscription_id, period_index, charge_id, filter_index, group_key
            order by event_at, source_file, line_number, file_checksum
            rows between unbounded preceding and current row
        ) as running_max,
        sum(unique_contribution) over (
            partition by external_subscription_id, period_index, charge_id, filter_index, group_key
            order by event_at, source_file, line_number, file_checksum
            rows between unbounded preceding and current row
        ) as running_unique,
        -- the last carried event holds the bucket's state at the period start
        coalesce(lead(is_in_period) over (
            partition by external_subscription_id, period_index, charge_id, filter_index, group_key
            order by event_at, source_file, line_number, file_checksum
        ), true) as is_followed_by_period
    from pb_contributions
),

-- percentage: the running totals of the period's events (int_charge_fees' period_events; a
-- count event is worth 1), whether each event is a free running total and the value it is
-- charged on, as the percentage macro does over the whole period; then, after each event, the
-- macro's free value, free events and Σ per-transaction amounts so far
pb_percentage_ranked as (
    select
        pb_running.*,
        coalesce(pb_running.event_value, 1) as value,
        pb_buckets.rate,
        pb_buckets.fixed_amount,
        pb_buckets.per_transaction_min_amount,
        pb_buckets.per_transaction_max_amount,
        pb_buckets.free_units_per_events as free_events,
        pb_buckets.free_units_per_total_aggregation as free_total,
        row_number() over (
            partition by pb_running.external_subscription_id, pb_running.period_index, pb_running.charge_id,
                pb_running.filter_index, pb_running.group_key
            order by pb_running.event_at, pb_running.source_file, pb_running.line_number, pb_running.file_checksum
        ) as event_rank,
        sum(coalesce(pb_running.event_value, 1)) over (
            partition by pb_running.external_subscription_id, pb_running.period_index, pb_running.charge_id,
                pb_running.filter_index, pb_running.group_key
            order by pb_running.event_at, pb_running.source_file, pb_running.line_number, pb_running.file_checksum
            rows between unbounded preceding and current row
        ) as running_total
    from pb_running
    inner join pb_buckets
        on pb_running.charge_id = pb_buckets.charge_id
        and pb_running.filter_index = pb_buckets.filter_index
    where pb_running.charge_model = 'percentage'
        and pb_running.is_in_period
),

pb_percentage_flagged as (
    select
        ranked.*,
        ranked.aggregation_type = 'sum_agg' and (
            (ranked.free_events > 0 and ranked.event_rank <= ranked.free_events)
            or (ranked.free_events = 0 and ranked.free_total > 0
                and ranked.running_total - ranked.value <= ranked.free_total)
        ) as is_running_total,
        case
            when ranked.free_total > 0 then
                case when ranked.running_total < ranked.free_total then null
                    else least(ranked.value, ranked.running_total - ranked.free_total) end
            when ranked.free_events > 0 and ranked.event_rank <= ranked.free_events then null
            else ranked.value
        end as charged_value
    from pb_percentage_ranked as ranked
),

pb_percentage_windows as (
    select
        flagged.*,
        max(case when flagged.is_running_total then flagged.running_total end) over (
            partition by flagged.external_subscription_id, flagged.period_index, flagged.charge_id,
                flagged.filter_index, flagged.group_key
            order by flagged.event_at, flagged.source_file, flagged.line_number, flagged.file_checksum
            rows between unbounded preceding and current row
        ) as last_running_total,
        sum(case when flagged.is_running_total and flagged.running_total < flagged.free_total then 1 else 0 end) over (
            partition by flagged.external_subscription_id, flagged.period_index, flagged.charge_id,
                flagged.filter_index, flagged.group_key
            order by flagged.event_at, flagged.source_file, flagged.line_number, flagged.file_checksum
            rows between unbounded preceding and current row
        ) as free_running_totals,
        sum(case when flagged.charged_value is null then 0 else
            case
                when flagged.per_transaction_min_amount is not null
                    and flagged.charged_value * flagged.rate * cast(0.01 as decimal(3, 2)) + flagged.fixed_amount
                        < flagged.per_transaction_min_amount
                    then flagged.per_transaction_min_amount
                when flagged.per_transaction_max_amount is not null
                    and flagged.charged_value * flagged.rate * cast(0.01 as decimal(3, 2)) + flagged.fixed_amount
                        > flagged.per_transaction_max_amount
                    then flagged.per_transaction_max_amount
                else flagged.charged_value * flagged.rate * cast(0.01 as decimal(3, 2)) + flagged.fixed_amount
            end end) over (
            partition by flagged.external_subscription_id, flagged.period_index, flagged.charge_id,
                flagged.filter_index, flagged.group_key
            order by flagged.event_at, flagged.source_file, flagged.line_number, flagged.file_checksum
            rows between unbounded preceding and current row
        ) as running_min_max_amount
    from pb_percentage_flagged as flagged
),

{%- set measured_columns = ['external_subscription_id', 'period_index', 'currency', 'charge_id', 'filter_index',
    'group_key', 'charge_model', 'aggregation_type', 'rounding_function', 'rounding_precision', 'event_at',
    'source_file', 'line_number', 'file_checksum', 'event_value', 'is_in_period', 'running_events',
    'running_sum', 'running_max', 'running_unique', 'is_followed_by_period'] %}

pb_measured as (
    select
        {% for c in measured_columns %}{{ c }},
        {% endfor -%}
        {{ tally.to_num('null') }} as free_value,
        cast(null as bigint) as free_events,
        {{ tally.to_num('null') }} as min_max_amount
    from pb_running
    where not (charge_model = 'percentage' and is_in_period)
    union all
    select
        {% for c in measured_columns %}{{ c }},
        {% endfor -%}
        {{ tally.to_num("""case
            when coalesce(last_running_total, 0) = 0 then 0
            when free_total = 0 then last_running_total
            when last_running_total <= free_total then last_running_total
            else free_total
        end""") }} as free_value,
        cast(case
            when free_events > 0 and free_running_totals > 0 then least(free_events, free_running_totals)
            when free_events > 0 then free_events
            else free_running_totals
        end as bigint) as free_events,
        {{ tally.to_num('running_min_max_amount') }} as min_max_amount
    from pb_percentage_windows
),

-- every bucket state with its raw units
pb_state_rows as (
    -- after each event of the period; the start state of a bucket carried from earlier periods
    select
        external_subscription_id,
        period_index,
        currency,
        charge_id,
        filter_index,
        group_key,
        charge_model,
        rounding_function,
        rounding_precision,
        not is_in_period as is_start,
        false as is_default_start,
        event_at,
        source_file,
        line_number,
        file_checksum,
        running_events as events_count,
        case aggregation_type
            when 'count_agg' then {{ tally.to_num('running_events') }}
            when 'sum_agg' then {{ tally.to_num('coalesce(running_sum, 0)') }}
            when 'max_agg' then {{ tally.to_num('coalesce(running_max, 0)') }}
            when 'latest_agg' then {{ tally.to_num('case when event_value > 0 then event_value else 0 end') }}
            when 'unique_count_agg' then {{ tally.to_num('running_unique') }}
        end as raw_units,
        free_value,
        free_events,
        min_max_amount
    from pb_measured
    where is_in_period or is_followed_by_period
    union all
    -- the default bucket of a charge filter with nothing carried, at 0 units
    select
        pb_periods.external_subscription_id,
        pb_periods.period_index,
        pb_periods.currency,
        pb_charges.charge_id,
        pb_buckets.filter_index,
        '' as group_key,
        pb_charges.charge_model,
        pb_charges.rounding_function,
        pb_charges.rounding_precision,
        true as is_start,
        true as is_default_start,
        cast(null as timestamp) as event_at,
        cast(null as {{ dbt.type_string() }}) as source_file,
        cast(null as bigint) as line_number,
        cast(null as {{ dbt.type_string() }}) as file_checksum,
        cast(0 as bigint) as events_count,
        {{ tally.to_num('0') }} as raw_units,
        {{ tally.to_num('null') }} as free_value,
        cast(null as bigint) as free_events,
        {{ tally.to_num('null') }} as min_max_amount
    from pb_periods
    inner join pb_charges
        on pb_periods.plan_code = pb_charges.plan_code
    inner join pb_buckets
        on pb_charges.charge_id = pb_buckets.charge_id
    left join (
        select distinct external_subscription_id, period_index, charge_id, filter_index
        from pb_windowed
        where not is_in_period
    ) as carried
        on pb_periods.external_subscription_id = carried.external_subscription_id
        and pb_periods.period_index = carried.period_index
        and pb_charges.charge_id = carried.charge_id
        and pb_buckets.filter_index = carried.filter_index
    where carried.charge_id is null
),

-- The charge-model macros work at the fee grain (subscription, period, charge, bucket, group);
-- here each state is one "fee": its period_index column carries a state key, unique within
-- the subscription's bucket, and the real period is joined back afterwards.
pb_state_units as (
    select
        external_subscription_id,
        row_number() over (
            partition by external_subscription_id, charge_id, filter_index, group_key
            order by period_index, is_default_start desc, is_start desc, event_at, source_file, line_number, file_checksum
        ) as state_key,
        period_index as state_period_index,
        currency,
        charge_id,
        filter_index,
        group_key,
        charge_model,
        is_start,
        is_default_start,
        event_at,
        source_file,
        line_number,
        file_checksum,
        events_count,
        {{ tally.apply_unit_rounding('raw_units', 'rounding_function', 'rounding_precision') }} as units,
        free_value,
        free_events,
        min_max_amount
    from pb_state_rows
),

pb_state_usage as (
    select
        external_subscription_id,
        state_key as period_index,
        charge_id,
        filter_index,
        group_key,
        charge_model,
        units,
        events_count
    from pb_state_units
),

pb_state_tiered as (
    {{ tally.charge_graduated('pb_state_usage', 'pb_buckets', 'pb_tiers') }}
    union all
    {{ tally.charge_volume('pb_state_usage', 'pb_buckets', 'pb_tiers') }}
    union all
    {{ tally.charge_graduated_percentage('pb_state_usage', 'pb_buckets', 'pb_tiers') }}
),

-- percentage at each state: the percentage macro's formula on the running figures (a start
-- state has no event of the period: nothing free, no per-transaction amount)
pb_state_percentage as (
    select
        s.external_subscription_id,
        s.state_key as period_index,
        s.charge_id,
        s.filter_index,
        s.group_key,
        case
            when b.per_transaction_min_amount is not null or b.per_transaction_max_amount is not null
                then coalesce(s.min_max_amount, 0)
            else
                case when s.free_value > s.units then 0
                    else (s.units - coalesce(s.free_value, 0)) * b.rate * cast(0.01 as decimal(3, 2)) end
                + case when s.units = 0 or b.fixed_amount = 0 or coalesce(s.free_events, 0) >= s.events_count then 0
                    else (s.events_count - coalesce(s.free_events, 0)) * b.fixed_amount end
        end as amount
    from pb_state_units as s
    inner join pb_buckets as b
        on s.charge_id = b.charge_id
        and s.filter_index = b.filter_index
    where s.charge_model = 'percentage'
),

pb_state_amounts as (
    {{ tally.charge_standard('pb_state_usage', 'pb_buckets') }}
    union all
    {{ tally.charge_package('pb_state_usage', 'pb_buckets') }}
    union all
    select * from pb_state_percentage
    union all
    select external_subscription_id, period_index, charge_id, filter_index, group_key, sum(amount) as amount
    from pb_state_tiered
    group by 1, 2, 3, 4, 5
),

pb_states as (
    select
        s.external_subscription_id,
        s.state_period_index as period_index,
        s.charge_id,
        s.filter_index,
        s.group_key,
        s.is_start,
        s.is_default_start,
        s.event_at,
        s.source_file,
        s.line_number,
        s.file_checksum,
        s.units,
        s.events_count,
        {{ tally.to_num('case when a.amount > 0 then a.amount else 0 end') }} as precise_amount,
        {{ tally.round_money('case when a.amount > 0 then a.amount else 0 end', 'pb_currencies.minor_unit') }}
            as amount
    from pb_state_units as s
    left join pb_state_amounts as a
        on s.external_subscription_id = a.external_subscription_id
        and s.state_key = a.period_index
        and s.charge_id = a.charge_id
        and s.filter_index = a.filter_index
        and s.group_key = a.group_key
    inner join pb_currencies
        on s.currency = pb_currencies.currency
)
{%- endmacro %}
