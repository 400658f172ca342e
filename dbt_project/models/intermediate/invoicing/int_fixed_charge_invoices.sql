-- The invoices of in-advance fixed charges' unit changes inside a period (int_fixed_charge_fees,
-- invoice_kind `unit_change`; decision 24), one per subscription and local day of the change,
-- whatever number of its fixed charges change that day, as Lago's invoices/
-- create_pay_in_advance_fixed_charges_service.rb (every fixed charge event of the subscription
-- at that timestamp on one invoice, invoice_type `subscription`), in int_invoices' shape
-- (which unions them in): `inv_<subscription>_<day>_units`, issued on the change's local day
-- at its first instant, so coupons, taxes, credit notes and wallets apply in issue order with
-- every other invoice. A decrease still gets its invoice, at 0.00 (Lago documents the change
-- with a zero-amount invoice). The period is the one the change falls in, billed with it, as
-- the instant invoices of pay-in-advance charges.
with changes as (
    select distinct external_subscription_id, service_period_index, changed_on
    from {{ ref('int_fixed_charge_fees') }}
    where invoice_kind = 'unit_change'
),

periods as (
    select * from {{ ref('int_billing_periods') }}
    where is_billable
),

final as (
    select
        'inv_' || changes.external_subscription_id || '_' || {{ tally.date_key('changes.changed_on') }} || '_units'
            as invoice_id,
        'subscription' as invoice_type,
        'unit_change' as invoice_kind,
        periods.external_customer_id,
        periods.external_subscription_id,
        periods.plan_code,
        periods.currency,
        periods.period_index,
        periods.period_start,
        periods.period_end,
        changes.changed_on as issuing_date,
        {{ tally.local_to_utc('cast(changes.changed_on as timestamp)', 'periods.timezone') }} as issued_at,
        cast(null as integer) as progressive_seq,
        periods.is_in_window
    from changes
    inner join periods
        on changes.external_subscription_id = periods.external_subscription_id
        and changes.service_period_index = periods.period_index
)

select * from final
