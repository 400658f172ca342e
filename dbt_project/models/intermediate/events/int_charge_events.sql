{{ config(materialized='incremental', incremental_strategy='append') }}
-- Each billable event under each charge of its subscription's plan for its metric, placed
-- in one price bucket and one pricing group:
--   bucket: the most specific charge filter it matches (keys AND, values OR; ties go to the
--           earliest filter), else filter_index 0, the charge's default bucket (Lago);
--   group:  the values of the charge's pricing_group_keys (a missing property is its own group).
-- and its local day (customer timezone), the grain of the daily meters.
-- Rating state, narrow and typed (no JSON is read after this): each build appends the events
-- landed since its last one (load_sequence above the table's highest; a batch that left no
-- row here is read again, and again leaves none). A catalog change drops the table and every
-- event is placed again (orchestration/rating_state.py).
with events as (
    select * from (
        {{ tally.resolved_events(
            'load_sequence > (select coalesce(max(load_sequence), 0) from ' ~ this ~ ')'
            if is_incremental() else 'true') }}
    ) as resolved
    where rejection_reason is null
),

charges as (
    select * from {{ ref('stg_charges') }}
),

buckets as (
    select * from {{ ref('stg_charge_buckets') }}
),

filter_values as (
    select * from {{ ref('stg_charge_filter_values') }}
),

charged as (
    select
        events.*,
        charges.charge_id,
        charges.charge_model,
        charges.pricing_group_key_1,
        charges.pricing_group_key_2,
        charges.pricing_group_key_3
    from events
    inner join charges
        on events.plan_code = charges.plan_code
        and events.billable_metric_code = charges.billable_metric_code
),

key_matches as (
    select
        charged.source_file,
        charged.file_checksum,
        charged.line_number,
        charged.charge_id,
        filter_values.filter_index,
        count(distinct filter_values.filter_key) as matched_keys
    from charged
    inner join filter_values
        on charged.charge_id = filter_values.charge_id
    where {{ tally.json_text('charged.properties', 'filter_values.filter_key') }} = filter_values.filter_value
        or (filter_values.filter_value = '__ALL_FILTER_VALUES__'
            and {{ tally.json_text('charged.properties', 'filter_values.filter_key') }} is not null)
    group by 1, 2, 3, 4, 5
),

best_filter as (
    select
        key_matches.source_file,
        key_matches.file_checksum,
        key_matches.line_number,
        key_matches.charge_id,
        key_matches.filter_index,
        row_number() over (
            partition by key_matches.source_file, key_matches.file_checksum, key_matches.line_number,
                key_matches.charge_id
            order by buckets.filter_key_count desc, key_matches.filter_index asc
        ) as specificity_rank
    from key_matches
    inner join buckets
        on key_matches.charge_id = buckets.charge_id
        and key_matches.filter_index = buckets.filter_index
    where key_matches.matched_keys = buckets.filter_key_count
),

final as (
    select
        charged.load_sequence,
        charged.source_file,
        charged.file_checksum,
        charged.line_number,
        charged.external_customer_id,
        charged.external_subscription_id,
        charged.plan_code,
        charged.billable_metric_code,
        charged.aggregation_type,
        charged.is_recurring,
        charged.event_at,
        cast({{ tally.utc_to_local('charged.event_at', 'charged.timezone') }} as date) as usage_date,
        charged.event_value,
        charged.precise_total_amount_cents,
        charged.field_value_text,
        charged.operation_type,
        charged.charge_id,
        charged.charge_model,
        coalesce(best_filter.filter_index, 0) as filter_index,
        {{ tally.pricing_group_key('charged.properties', ['charged.pricing_group_key_1', 'charged.pricing_group_key_2', 'charged.pricing_group_key_3']) }} as group_key
    from charged
    left join best_filter
        on charged.source_file = best_filter.source_file
        and charged.file_checksum = best_filter.file_checksum
        and charged.line_number = best_filter.line_number
        and charged.charge_id = best_filter.charge_id
        and best_filter.specificity_rank = 1
)

select * from final
