with source as (
    select * from {{ source('catalog', 'billable_metrics') }}
),

final as (
    select
        code as billable_metric_code,
        name as billable_metric_name,
        aggregation_type,
        field_name,
        recurring as is_recurring,
        rounding_function,
        rounding_precision
    from source
)

select * from final
