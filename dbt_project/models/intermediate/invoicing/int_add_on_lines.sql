-- The add-on fees of every invoice of int_invoices, in the shape of int_invoice_lines (which
-- unions them in):
--   fixed_charge  each fixed charge of a subscription's plan, every period (int_fixed_charge_fees),
--                 on the invoice closing the period (in arrears) or opening it (in advance),
--                 and an in-advance unit change inside a period on the invoice of its day;
--                 charge_id is the fixed charge's id
--   add_on        the fee of a one-off invoice: units × unit_amount (the add-on's amount unless
--                 overridden), rounded once (Lago fees/one_off_service.rb); charge_id is the add-on's code
with invoices as (
    select * from {{ ref('int_invoices') }}
),

fixed_fees as (
    select * from {{ ref('int_fixed_charge_fees') }}
),

one_offs as (
    select * from {{ ref('stg_one_off_invoices') }}
),

currencies as (
    select * from {{ ref('currencies') }}
),

fixed_charge_lines as (
    select
        invoices.invoice_id,
        invoices.invoice_id || ':fixed_charge:' || fixed_fees.fixed_charge_id as line_id,
        'fixed_charge' as fee_type,
        fixed_fees.fixed_charge_id as charge_id,
        cast(null as {{ dbt.type_string() }}) as billable_metric_code,
        fixed_fees.display_name,
        fixed_fees.units,
        fixed_fees.full_units,
        0 as events_count,
        case when fixed_fees.units = 0 then {{ tally.to_num('0') }}
            else {{ tally.divide('fixed_fees.precise_amount', 'fixed_fees.units') }} end as unit_amount,
        fixed_fees.precise_amount,
        fixed_fees.amount,
        fixed_fees.currency
    from invoices
    inner join fixed_fees
        on invoices.external_subscription_id = fixed_fees.external_subscription_id
        and invoices.period_index = fixed_fees.invoice_period_index
        and invoices.invoice_kind = fixed_fees.invoice_kind
        -- a unit change's fee goes on the invoice of its day
        and (fixed_fees.changed_on is null or invoices.issuing_date = fixed_fees.changed_on)
),

one_off_lines as (
    select
        invoices.invoice_id,
        invoices.invoice_id || ':add_on:' || one_offs.add_on_code as line_id,
        'add_on' as fee_type,
        one_offs.add_on_code as charge_id,
        cast(null as {{ dbt.type_string() }}) as billable_metric_code,
        one_offs.display_name,
        one_offs.units,
        one_offs.units as full_units,
        0 as events_count,
        one_offs.unit_amount,
        {{ tally.to_num('one_offs.units * one_offs.unit_amount') }} as precise_amount,
        {{ tally.round_money('one_offs.units * one_offs.unit_amount', 'currencies.minor_unit') }} as amount,
        invoices.currency
    from invoices
    inner join one_offs
        on invoices.invoice_id = 'inv_one_off_' || one_offs.external_customer_id || '_'
            || cast(one_offs.line_number as {{ dbt.type_string() }})
    inner join currencies
        on invoices.currency = currencies.currency
    where invoices.invoice_type = 'one_off'
),

final as (
    select * from fixed_charge_lines
    union all
    select * from one_off_lines
)

select * from final
