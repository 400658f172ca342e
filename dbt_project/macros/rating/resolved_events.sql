{#- Each accepted event matched to its metric, customer and the subscription active at its
    timestamp, with its numeric value; the first rule it breaks becomes its quarantine reason.
    A macro, so that each reader puts its own filter (`event_filter`, on the columns of
    int_events_deduplicated: the events landed since its last build) on the one scan of
    events, where it prunes the whole query; int_events_resolved is the unfiltered view. -#}
{% macro resolved_events(event_filter='true') -%}
with events as (
    select * from {{ ref('int_events_deduplicated') }}
    where dedup_status = 'accepted'
        and ({{ event_filter }})
),

metrics as (
    select * from {{ ref('stg_billable_metrics') }}
),

subscriptions as (
    select * from {{ ref('stg_subscriptions') }}
),

customers as (
    select * from {{ ref('stg_customers') }}
),

charged_metrics as (
    select distinct plan_code, billable_metric_code from {{ ref('stg_charges') }}
),

-- An event that names only its customer goes to the subscription active at that time,
-- preferring one whose plan prices the metric, then the oldest.
customer_candidates as (
    select
        events.source_file,
        events.file_checksum,
        events.line_number,
        subscriptions.external_subscription_id,
        row_number() over (
            partition by events.source_file, events.file_checksum, events.line_number
            order by
                case when charged_metrics.plan_code is not null then 0 else 1 end,
                subscriptions.started_at,
                subscriptions.external_subscription_id
        ) as candidate_rank
    from events
    inner join subscriptions
        on events.external_customer_id = subscriptions.external_customer_id
        and events.event_at >= subscriptions.started_at
        and (subscriptions.ended_at is null or events.event_at < subscriptions.ended_at)
    left join charged_metrics
        on subscriptions.plan_code = charged_metrics.plan_code
        and events.billable_metric_code = charged_metrics.billable_metric_code
    where events.external_subscription_id is null
),

matched as (
    select
        events.*,
        metrics.aggregation_type,
        metrics.field_name,
        metrics.is_recurring,
        customers.external_customer_id as known_customer_id,
        subscriptions.external_subscription_id as resolved_subscription_id,
        subscriptions.external_customer_id as subscription_customer_id,
        subscriptions.plan_code,
        subscriptions.timezone,
        subscriptions.started_at as subscription_started_at,
        subscriptions.ended_at as subscription_ended_at,
        customer_candidates.external_subscription_id as candidate_subscription_id,
        case when metrics.field_name is not null
            then {{ tally.json_text('events.properties', 'metrics.field_name') }} end as field_value_text,
        {{ tally.json_text('events.properties', "'operation_type'") }} as operation_type
    from events
    left join metrics
        on events.billable_metric_code = metrics.billable_metric_code
    left join customer_candidates
        on events.source_file = customer_candidates.source_file
        and events.file_checksum = customer_candidates.file_checksum
        and events.line_number = customer_candidates.line_number
        and customer_candidates.candidate_rank = 1
    -- an event names the external_id; after a plan change that is several segments back to
    -- back (decision 34): the one active at the event, else the first (before it) or the last
    -- (after it), so that exactly one matches and the checks below see its dates
    left join subscriptions as named
        on events.external_subscription_id = named.public_subscription_id
        and (named.segment_count = 1
            or (events.event_at >= named.started_at
                and (named.ended_at is null or events.event_at < named.ended_at))
            or (named.segment_number = 1 and events.event_at < named.started_at)
            or (named.segment_number = named.segment_count and events.event_at >= named.ended_at))
    left join subscriptions
        on subscriptions.external_subscription_id
            = coalesce(named.external_subscription_id, customer_candidates.external_subscription_id)
    left join customers
        on customers.external_customer_id = coalesce(events.external_customer_id, subscriptions.external_customer_id)
),

checked as (
    select
        *,
        case
            when aggregation_type is null then 'unknown_metric'
            when external_subscription_id is not null and resolved_subscription_id is null
                then 'unknown_subscription'
            when external_subscription_id is not null and external_customer_id is not null
                and external_customer_id <> subscription_customer_id then 'unknown_subscription'
            when external_subscription_id is null and known_customer_id is null then 'unknown_customer'
            when resolved_subscription_id is null then 'no_active_subscription'
            when event_at < subscription_started_at
                or (subscription_ended_at is not null and event_at >= subscription_ended_at)
                then 'no_active_subscription'
            when not {{ tally.is_aggregation('aggregation_type', 'field', 'none') }} and field_value_text is null then 'missing_field'
            when {{ tally.is_aggregation('aggregation_type', 'field', 'number') }}
                and not {{ tally.numeric_in_range('aggregation_type', 'field_value_text') }} then 'non_numeric_value'
        end as resolution_reason
    from matched
),

final as (
    select
        load_sequence,
        source_file,
        file_checksum,
        line_number,
        transaction_id,
        case when resolution_reason is not null then {{ tally.event_json('checked') }} end as payload,
        coalesce(external_customer_id, subscription_customer_id) as external_customer_id,
        resolved_subscription_id as external_subscription_id,
        plan_code,
        timezone,
        billable_metric_code,
        aggregation_type,
        is_recurring,
        event_at,
        properties,
        precise_total_amount_cents,
        field_value_text,
        case when {{ tally.is_aggregation('aggregation_type', 'field', 'number') }}
                and {{ tally.numeric_in_range('aggregation_type', 'field_value_text') }}
            then {{ tally.to_num('field_value_text') }} end as event_value,
        coalesce(operation_type, 'add') as operation_type,
        resolution_reason as rejection_reason,
        case resolution_reason
            when 'unknown_metric' then 'No billable metric has code ' || billable_metric_code || '.'
            when 'unknown_subscription' then 'Subscription ' || external_subscription_id
                || ' does not exist' || case when resolved_subscription_id is not null
                    then ' for customer ' || external_customer_id else '' end || '.'
            when 'unknown_customer' then 'No customer has external_id ' || external_customer_id || '.'
            when 'no_active_subscription' then 'No subscription of '
                || coalesce(external_subscription_id, external_customer_id)
                || ' is active at ' || {{ dbt.cast("event_at", api.Column.translate_type("string")) }} || ' UTC.'
            when 'missing_field' then 'Property ' || field_name || ' is missing from properties.'
            when 'non_numeric_value' then 'Property ' || field_name || ' = ' || field_value_text
                || ' is not a number (-?digits[.digits]) or is too large for its meter.'
        end as rejection_detail
    from checked
)

select * from final
{%- endmacro %}
