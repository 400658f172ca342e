-- billing.revenue_by_month: revenue per billing month (the month of period_end, as its first
-- day) and invoice currency, with the sums converted to the reporting currency (dbt var
-- `reporting_currency`) at the latest fx rate dated on or before the month's last day.
-- A currency with no such rate keeps its row with a null rate and null reporting amounts:
-- revenue is never dropped (tests/revenue_without_fx_rate.sql warns about those rows).
with invoices as (
    select * from {{ ref('fct_invoices') }}
    -- invoice_type 'credit' is a prepaid credit (wallet) purchase: deferred revenue, not
    -- revenue; it is recognised when the credits are spent on a later invoice.
    where invoice_type <> 'credit'
      -- the window's months only: fct_invoices also carries earlier months' adjustment
      -- invoices, which alone are not a month's revenue (publish replaces window months)
      and period_end >= {{ tally.billing_from() }}
      and period_end < {{ tally.billing_to() }}
),

rates as (
    select * from {{ ref('stg_fx_rates') }}
),

by_month as (
    select
        cast({{ dbt.date_trunc('month', 'period_end') }} as date) as billing_month,
        currency,
        cast(count(*) as bigint) as invoices_count,
        cast(sum(fees_amount) as {{ tally.money_type() }}) as fees_amount,
        cast(sum(sub_total_excluding_taxes) as {{ tally.money_type() }}) as sub_total_excluding_taxes,
        cast(sum(taxes_amount) as {{ tally.money_type() }}) as taxes_amount,
        cast(sum(total_amount) as {{ tally.money_type() }}) as total_amount
    from invoices
    group by 1, 2
),

months as (
    select
        by_month.*,
        cast({{ dbt.last_day('billing_month', 'month') }} as date) as month_last_day
    from by_month
),

-- the rate used: the latest rate_date on or before the month's last day
rate_dates as (
    select
        months.billing_month,
        months.currency,
        max(rates.rate_date) as fx_rate_date
    from months
    inner join rates
        on months.currency = rates.currency
        and months.month_last_day >= rates.rate_date
    group by 1, 2
),

converted as (
    select
        months.billing_month,
        months.currency,
        months.invoices_count,
        months.fees_amount,
        months.sub_total_excluding_taxes,
        months.taxes_amount,
        months.total_amount,
        -- each branch cast on its own, so the CASE keeps the full scale
        case
            when months.currency = {{ dbt.string_literal(var('reporting_currency')) }}
                then cast(1 as {{ tally.num_type() }})
            else cast(rates.rate as {{ tally.num_type() }})
        end as fx_rate,
        case
            when months.currency = {{ dbt.string_literal(var('reporting_currency')) }}
                then cast(null as date)
            else rate_dates.fx_rate_date
        end as fx_rate_date
    from months
    left join rate_dates
        on months.billing_month = rate_dates.billing_month
        and months.currency = rate_dates.currency
    left join rates
        on rate_dates.currency = rates.currency
        and rate_dates.fx_rate_date = rates.rate_date
),

final as (
    select
        billing_month,
        cast(currency as {{ dbt.type_string() }}) as currency,
        cast({{ dbt.string_literal(var('reporting_currency')) }} as {{ dbt.type_string() }}) as reporting_currency,
        invoices_count,
        fees_amount,
        sub_total_excluding_taxes,
        taxes_amount,
        total_amount,
        fx_rate,
        fx_rate_date,
        -- half away from zero to the cent; null when there is no rate
        {{ tally.round_money('sub_total_excluding_taxes * fx_rate', 2) }} as sub_total_excluding_taxes_reporting,
        {{ tally.round_money('total_amount * fx_rate', 2) }} as total_amount_reporting
    from converted
)

select * from final
