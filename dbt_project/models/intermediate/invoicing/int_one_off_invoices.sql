-- One-off invoices (Lago invoices/create_one_off_service.rb, invoice_type one_off): one per row of
-- one_off_invoices.csv, `inv_one_off_<customer>_<row>`, issued on its local day in the customer's
-- currency, in the shape of int_invoices (which unions them in). Taxed; no coupon, wallet or
-- credit note applies to them, as in Lago (Invoices::ComputeAmountsFromFees only).
with one_offs as (
    select * from {{ ref('stg_one_off_invoices') }}
),

customers as (
    select * from {{ ref('stg_customers') }}
),

final as (
    select
        'inv_one_off_' || one_offs.external_customer_id || '_' || cast(one_offs.line_number as {{ dbt.type_string() }})
            as invoice_id,
        'one_off' as invoice_type,
        'one_off' as invoice_kind,
        one_offs.external_customer_id,
        cast(null as {{ dbt.type_string() }}) as external_subscription_id,
        cast(null as {{ dbt.type_string() }}) as plan_code,
        customers.currency,
        cast(null as integer) as period_index,
        one_offs.issuing_date as period_start,
        one_offs.issuing_date as period_end,
        one_offs.issuing_date,
        {{ tally.local_to_utc('cast(one_offs.issuing_date as timestamp)', 'customers.timezone') }} as issued_at,
        cast(null as integer) as progressive_seq,
        one_offs.issuing_date >= {{ tally.billing_from() }}
            and one_offs.issuing_date < {{ tally.billing_to() }} as is_in_window
    from one_offs
    inner join customers
        on one_offs.external_customer_id = customers.external_customer_id
    where one_offs.issuing_date < {{ tally.billing_to() }}
)

select * from final
