-- Every invoice up to the run's horizon, one row each, with the instant it is issued
-- (`issued_at`, UTC) that orders the state carried from invoice to invoice: coupons that
-- run out, credit notes and wallet balances.
--   subscription         closes each billing period (its usage, its subscription fee in
--                        arrears or the next one's in advance); an in-advance plan also
--                        gets an opening invoice for its first period (`_open`)
--   progressive_billing  a usage threshold crossed inside a period (`_pb1`, `_pb2`, ...)
--   credit               a purchase of prepaid credits
--   subscription/instant pay-in-advance charges' instant fees (int_instant_invoices, `_adv`)
--   one_off              an add-on billed once (int_one_off_invoices)
--   subscription/unit_change  an in-advance fixed charge's units changed inside a period
--                        (int_fixed_charge_invoices, `_units`)
with periods as (
    select * from {{ ref('int_billing_periods') }}
    where is_billable
),

progressive as (
    select * from {{ ref('int_progressive_invoices') }}
),

purchases as (
    select * from {{ ref('int_wallet_transactions') }}
    where kind = 'purchased'
),

-- subscriptions whose first period bills an in-advance fixed charge: an opening invoice too
fixed_charge_openings as (
    select distinct external_subscription_id
    from {{ ref('int_fixed_charge_fees') }}
    where invoice_kind = 'opening'
),

subscription_invoices as (
    select
        'inv_' || external_subscription_id || '_' || {{ tally.date_key('period_start') }} as invoice_id,
        'subscription' as invoice_type,
        'closing' as invoice_kind,
        external_customer_id,
        external_subscription_id,
        plan_code,
        currency,
        period_index,
        period_start,
        period_end,
        cast({{ dbt.dateadd('day', 1, 'period_end') }} as date) as issuing_date,
        to_at as issued_at,
        cast(null as integer) as progressive_seq,
        is_in_window
    from periods
    union all
    select
        'inv_' || external_subscription_id || '_' || {{ tally.date_key('period_start') }} || '_open',
        'subscription',
        'opening',
        external_customer_id,
        external_subscription_id,
        plan_code,
        currency,
        period_index,
        period_start,
        period_end,
        period_start,
        from_at,
        cast(null as integer),
        is_in_window
    from periods
    where period_index = 0
        and (pay_in_advance or external_subscription_id in (select external_subscription_id from fixed_charge_openings))
),

progressive_invoices as (
    select
        'inv_' || periods.external_subscription_id || '_' || {{ tally.date_key('periods.period_start') }}
            || '_pb' || cast(progressive.progressive_seq as {{ dbt.type_string() }}),
        'progressive_billing',
        'progressive',
        periods.external_customer_id,
        periods.external_subscription_id,
        periods.plan_code,
        periods.currency,
        periods.period_index,
        periods.period_start,
        periods.period_end,
        progressive.issuing_date,
        progressive.triggered_at,
        cast(progressive.progressive_seq as integer),
        periods.is_in_window
    from progressive
    inner join periods
        on progressive.external_subscription_id = periods.external_subscription_id
        and progressive.period_index = periods.period_index
),

credit_invoices as (
    select
        'inv_credit_' || wallet_id || '_' || cast(line_number as {{ dbt.type_string() }}),
        'credit',
        'credit',
        external_customer_id,
        cast(null as {{ dbt.type_string() }}),
        cast(null as {{ dbt.type_string() }}),
        currency,
        cast(null as integer),
        created_on,
        created_on,
        created_on,
        created_at,
        cast(null as integer),
        created_on >= {{ tally.billing_from() }}
            and created_on < {{ tally.billing_to() }}
    from purchases
    where created_on < {{ tally.billing_to() }}
),

final as (
    select * from subscription_invoices
    union all
    select * from progressive_invoices
    union all
    select * from credit_invoices
    union all
    select * from {{ ref('int_instant_invoices') }}
    union all
    select * from {{ ref('int_one_off_invoices') }}
    union all
    select * from {{ ref('int_fixed_charge_invoices') }}
)

select * from final
