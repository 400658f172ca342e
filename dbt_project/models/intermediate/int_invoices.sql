-- The invoices of the run's window and their lines. An invoice closes each billing period
-- (its usage charges, plus the subscription fee: this period's in arrears, the next one's in
-- advance); an in-advance plan also gets an opening invoice for its first period.
with periods as (
    select * from {{ ref('int_billing_periods') }}
    where is_billable
),

invoice_heads as (
    select
        periods.*,
        'closing' as invoice_kind,
        cast({{ dbt.dateadd('day', 1, 'periods.period_end') }} as date) as issuing_date
    from periods
    union all
    select
        periods.*,
        'opening' as invoice_kind,
        periods.period_start as issuing_date
    from periods
    where periods.pay_in_advance and periods.period_index = 0
),

invoices as (
    select
        'inv_' || external_subscription_id || '_' || {{ tally.date_key('period_start') }}
            || case when invoice_kind = 'opening' then '_open' else '' end as invoice_id,
        *
    from invoice_heads
),

final as (
    select * from invoices
)

select * from final
