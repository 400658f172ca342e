-- One price bucket per charge filter, plus filter_index 0: the charge's own properties,
-- which price the events that match no filter (Lago's default bucket).
with source as (
    select * from {{ source('catalog', 'charge_buckets') }}
),

filter_keys as (
    select charge_id, filter_index, count(distinct filter_key) as key_count
    from {{ source('catalog', 'charge_filter_values') }}
    group by charge_id, filter_index
),

final as (
    select
        source.charge_id,
        source.filter_index,
        nullif(source.invoice_display_name, '') as invoice_display_name,
        coalesce(filter_keys.key_count, 0) as filter_key_count,
        {{ tally.to_num('source.amount') }} as amount,
        source.package_size,
        {{ tally.to_num('coalesce(source.free_units, 0)') }} as free_units,
        {{ tally.to_num('source.rate') }} as rate,
        {{ tally.to_num('coalesce(source.fixed_amount, 0)') }} as fixed_amount,
        coalesce(source.free_units_per_events, 0) as free_units_per_events,
        {{ tally.to_num('coalesce(source.free_units_per_total_aggregation, 0)') }} as free_units_per_total_aggregation,
        {{ tally.to_num('source.per_transaction_min_amount') }} as per_transaction_min_amount,
        {{ tally.to_num('source.per_transaction_max_amount') }} as per_transaction_max_amount,
        source.is_adjacent
    from source
    left join filter_keys
        on source.charge_id = filter_keys.charge_id
        and source.filter_index = filter_keys.filter_index
)

select * from final
