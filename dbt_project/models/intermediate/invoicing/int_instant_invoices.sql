-- The invoices of invoiceable instant fees (decision 23), one row each in int_invoices' shape:
-- invoice_type `subscription`, as Lago's pay-in-advance invoice (invoices/
-- create_pay_in_advance_charge_service.rb), invoice_kind `instant`; issued on the event's local
-- day, at the event (grouping `day`: at the day's last event), which orders coupons, credit
-- notes and wallets with the other invoices; the period is the billing period the events fall in.
with lines as (
    select * from {{ ref('int_instant_invoice_lines') }}
    -- a recurring charge's opening fee is on the closing invoice (int_invoices)
    where invoice_kind = 'instant'
),

periods as (
    select * from {{ ref('int_billing_periods') }}
    where is_billable
),

invoices as (
    select invoice_id, external_subscription_id, period_index, min(usage_date) as issuing_date, max(event_at) as issued_at
    from lines
    group by 1, 2, 3
),

final as (
    select
        invoices.invoice_id,
        'subscription' as invoice_type,
        'instant' as invoice_kind,
        periods.external_customer_id,
        periods.external_subscription_id,
        periods.plan_code,
        periods.currency,
        periods.period_index,
        periods.period_start,
        periods.period_end,
        invoices.issuing_date,
        invoices.issued_at,
        cast(null as integer) as progressive_seq,
        periods.is_in_window
    from invoices
    inner join periods
        on invoices.external_subscription_id = periods.external_subscription_id
        and invoices.period_index = periods.period_index
)

select * from final
