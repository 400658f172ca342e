-- One row per fee on the window's invoices: subscription fees and charge fees.
with invoices as (
    select * from {{ ref('int_invoices') }}
),

subscription_fees as (
    select * from {{ ref('int_subscription_fees') }}
),

charge_fees as (
    select * from {{ ref('int_charge_fees') }}
),

subscription_lines as (
    select
        invoices.invoice_id,
        invoices.invoice_id || ':subscription:' || {{ tally.date_key('service.period_start') }} as line_id,
        'subscription' as fee_type,
        cast(null as {{ dbt.type_string() }}) as charge_id,
        cast(null as {{ dbt.type_string() }}) as billable_metric_code,
        {{ tally.to_num('1') }} as units,
        0 as events_count,
        subscription_fees.precise_amount as unit_amount,
        subscription_fees.amount,
        subscription_fees.currency
    from invoices
    inner join subscription_fees
        on invoices.external_subscription_id = subscription_fees.external_subscription_id
        and invoices.period_index = subscription_fees.invoice_period_index
        and invoices.invoice_kind = subscription_fees.invoice_kind
    inner join {{ ref('int_billing_periods') }} as service
        on subscription_fees.external_subscription_id = service.external_subscription_id
        and subscription_fees.service_period_index = service.period_index
),

charge_lines as (
    select
        invoices.invoice_id,
        invoices.invoice_id || ':' || charge_fees.charge_id || ':' || cast(charge_fees.filter_index as {{ dbt.type_string() }})
            || case when charge_fees.group_key = '' then '' else ':' || charge_fees.group_key end as line_id,
        'charge' as fee_type,
        charge_fees.charge_id,
        charge_fees.billable_metric_code,
        charge_fees.units,
        charge_fees.events_count,
        case when charge_fees.units = 0 then {{ tally.to_num('0') }}
            else {{ tally.divide('charge_fees.precise_amount', 'charge_fees.units') }} end as unit_amount,
        charge_fees.amount,
        charge_fees.currency
    from invoices
    inner join charge_fees
        on invoices.external_subscription_id = charge_fees.external_subscription_id
        and invoices.period_index = charge_fees.period_index
    where invoices.invoice_kind = 'closing'
),

lines as (
    select * from subscription_lines
    union all
    select * from charge_lines
)

select * from lines
