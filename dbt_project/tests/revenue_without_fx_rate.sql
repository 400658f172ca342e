{{ config(severity='warn') }}
-- Revenue in a currency with no fx rate on or before its month's last day: the row is kept
-- in billing.revenue_by_month with a null fx_rate and null reporting amounts; add the rate
-- to the catalog's fx_rates.csv.
select billing_month, currency, reporting_currency, invoices_count, total_amount
from {{ ref('fct_revenue_by_month') }}
where fx_rate is null
