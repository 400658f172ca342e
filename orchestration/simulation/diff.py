"""What the candidate changes, against what was published: three tables in the `simulation`
schema, written in one transaction (a reader sees the previous simulation or this one whole).

- invoice_diff: one row per invoice of either side in the months simulated (billing month =
  the month of period_end, as billing.revenue_by_month), keyed by invoice id and currency (an
  invoice that changes currency is one row gone and one row new); totals are total_amount as
  published, 0 on the side without the invoice.
- line_diff: the same per invoice line (which charges changed).
- summary: per current plan (the candidate's for a new subscription), month and currency:
  revenue now and under the candidate (credit purchases are not revenue), customers up, down
  and unchanged, the largest increase and decrease, and the revenue in the reporting currency
  at the rate billing.revenue_by_month uses (the latest fx rate on or before the month's last day)."""
from __future__ import annotations

from datetime import date

import duckdb

from orchestration.lib.months import next_month
from orchestration.simulation.rating import PREFIX

MONEY = "decimal(20, 4)"

INVOICE_DIFF = f"""
create or replace table simulation.invoice_diff as
with current_invoices as (
    select invoice_id, external_customer_id, external_subscription_id, invoice_type, currency,
        cast(date_trunc('month', period_end) as date) as billing_month, period_start, total_amount
    from billing.invoices
    where period_end >= $first and period_end < $end
),
candidate_invoices as (
    select invoice_id, external_customer_id, external_subscription_id, invoice_type, currency,
        cast(date_trunc('month', period_end) as date) as billing_month, period_start, total_amount
    from {PREFIX}marts.fct_invoices
    where period_end >= $first and period_end < $end
),
joined as (
    select
        coalesce(c.invoice_id, k.invoice_id) as invoice_id,
        coalesce(c.external_customer_id, k.external_customer_id) as external_customer_id,
        coalesce(c.external_subscription_id, k.external_subscription_id) as external_subscription_id,
        coalesce(c.invoice_type, k.invoice_type) as invoice_type,
        coalesce(c.billing_month, k.billing_month) as billing_month,
        coalesce(c.currency, k.currency) as currency,
        c.period_start as current_period_start,
        k.period_start as candidate_period_start,
        c.invoice_id is not null as in_current,
        k.invoice_id is not null as in_candidate,
        cast(coalesce(c.total_amount, 0) as {MONEY}) as current_total_amount,
        cast(coalesce(k.total_amount, 0) as {MONEY}) as candidate_total_amount
    from current_invoices as c
    full outer join candidate_invoices as k
        on c.invoice_id = k.invoice_id and c.currency = k.currency
),
-- each side's plan: the subscription's segment holding the invoice's first day (a plan change
-- is several rows of one external_id, decision 34), read from the catalog rows as written
-- (their date part: a segment starts and ends on whole local days but for datetimes)
segments as (
    select 'current' as side, external_id, plan_code, cast(left(started_at, 10) as date) as started_on,
        coalesce(cast(left(ending_at, 10) as date), date '9999-12-31') as ending_on
    from catalog.subscriptions
    union all
    select 'candidate', external_id, plan_code, cast(left(started_at, 10) as date),
        coalesce(cast(left(ending_at, 10) as date), date '9999-12-31')
    from {PREFIX}catalog.subscriptions
),
plans as (
    select
        joined.*,
        (select max(s.plan_code) from segments as s
         where s.side = 'current' and s.external_id = joined.external_subscription_id
           and joined.current_period_start between s.started_on and s.ending_on) as current_plan_code,
        (select max(s.plan_code) from segments as s
         where s.side = 'candidate' and s.external_id = joined.external_subscription_id
           and joined.candidate_period_start between s.started_on and s.ending_on) as candidate_plan_code
    from joined
)
select
    invoice_id, external_customer_id, external_subscription_id, invoice_type, billing_month, currency,
    current_plan_code, candidate_plan_code, in_current, in_candidate,
    current_total_amount, candidate_total_amount,
    cast(candidate_total_amount - current_total_amount as {MONEY}) as difference_amount,
    -- null when nothing is billed now: no percentage of zero
    case when current_total_amount <> 0
        then cast(round((candidate_total_amount - current_total_amount) * 100 / current_total_amount, 2)
                  as decimal(20, 2))
    end as difference_percent,
    case
        when not in_current then 'new'
        when not in_candidate then 'gone'
        when candidate_total_amount > current_total_amount then 'up'
        when candidate_total_amount < current_total_amount then 'down'
        else 'unchanged'
    end as change
from plans
order by billing_month, external_customer_id, invoice_id, currency
"""

LINE_DIFF = f"""
create or replace table simulation.line_diff as
with current_lines as (
    select l.line_id, l.invoice_id, l.fee_type, l.charge_id, l.billable_metric_code, l.currency,
        l.units, l.amount
    from billing.invoice_lines as l
    inner join billing.invoices as i on l.invoice_id = i.invoice_id
    where i.period_end >= $first and i.period_end < $end
),
candidate_lines as (
    select l.line_id, l.invoice_id, l.fee_type, l.charge_id, l.billable_metric_code, l.currency,
        l.units, l.amount
    from {PREFIX}marts.fct_invoice_lines as l
    inner join {PREFIX}marts.fct_invoices as i on l.invoice_id = i.invoice_id
    where i.period_end >= $first and i.period_end < $end
)
select
    coalesce(c.invoice_id, k.invoice_id) as invoice_id,
    coalesce(c.line_id, k.line_id) as line_id,
    d.external_customer_id, d.external_subscription_id, d.billing_month,
    coalesce(c.currency, k.currency) as currency,
    coalesce(c.fee_type, k.fee_type) as fee_type,
    coalesce(c.charge_id, k.charge_id) as charge_id,
    coalesce(c.billable_metric_code, k.billable_metric_code) as billable_metric_code,
    c.units as current_units,
    k.units as candidate_units,
    cast(coalesce(c.amount, 0) as {MONEY}) as current_amount,
    cast(coalesce(k.amount, 0) as {MONEY}) as candidate_amount,
    cast(coalesce(k.amount, 0) - coalesce(c.amount, 0) as {MONEY}) as difference_amount
from current_lines as c
full outer join candidate_lines as k
    on c.line_id = k.line_id and c.currency = k.currency
left join simulation.invoice_diff as d
    on d.invoice_id = coalesce(c.invoice_id, k.invoice_id) and d.currency = coalesce(c.currency, k.currency)
order by 5, 3, 1, 2
"""

SUMMARY = f"""
create or replace table simulation.summary as
with revenue as (
    select *, coalesce(current_plan_code, candidate_plan_code) as plan_code
    from simulation.invoice_diff
    where invoice_type <> 'credit'
),
customers as (
    select plan_code, billing_month, currency, external_customer_id,
        sum(current_total_amount) as current_amount,
        sum(candidate_total_amount) as candidate_amount,
        sum(difference_amount) as difference_amount
    from revenue
    group by 1, 2, 3, 4
),
ranked as (
    select *,
        row_number() over (partition by plan_code, billing_month, currency
                           order by difference_amount desc, external_customer_id) as up_rank,
        row_number() over (partition by plan_code, billing_month, currency
                           order by difference_amount asc, external_customer_id) as down_rank
    from customers
),
by_plan as (
    select plan_code, billing_month, currency,
        cast(sum(current_amount) as {MONEY}) as current_revenue,
        cast(sum(candidate_amount) as {MONEY}) as candidate_revenue,
        cast(sum(difference_amount) as {MONEY}) as difference_amount,
        cast(count(*) filter (where difference_amount > 0) as bigint) as customers_up,
        cast(count(*) filter (where difference_amount < 0) as bigint) as customers_down,
        cast(count(*) filter (where difference_amount = 0) as bigint) as customers_unchanged,
        max(case when up_rank = 1 and difference_amount > 0 then external_customer_id end)
            as largest_increase_customer,
        cast(max(case when up_rank = 1 and difference_amount > 0 then difference_amount end) as {MONEY})
            as largest_increase_amount,
        max(case when down_rank = 1 and difference_amount < 0 then external_customer_id end)
            as largest_decrease_customer,
        cast(min(case when down_rank = 1 and difference_amount < 0 then difference_amount end) as {MONEY})
            as largest_decrease_amount
    from ranked
    group by 1, 2, 3
),
rates as (
    select by_plan.plan_code, by_plan.billing_month, by_plan.currency,
        case when by_plan.currency = $reporting then cast(1 as decimal(38, 10))
             else arg_max(fx.rate, fx.rate_date) end as fx_rate
    from by_plan
    left join staging.stg_fx_rates as fx
        on fx.currency = by_plan.currency
        and fx.rate_date <= last_day(by_plan.billing_month)
    group by 1, 2, 3
)
select by_plan.*,
    cast($reporting as varchar) as reporting_currency,
    rates.fx_rate,
    -- half away from zero to the cent, as revenue_by_month; null without a rate
    cast(round(by_plan.current_revenue * rates.fx_rate, 2) as {MONEY}) as current_revenue_reporting,
    cast(round(by_plan.candidate_revenue * rates.fx_rate, 2) as {MONEY}) as candidate_revenue_reporting,
    cast(round(by_plan.candidate_revenue * rates.fx_rate, 2) - round(by_plan.current_revenue * rates.fx_rate, 2)
         as {MONEY}) as difference_amount_reporting
from by_plan
inner join rates using (plan_code, billing_month, currency)
order by billing_month, plan_code, currency
"""


def write(con: duckdb.DuckDBPyConnection, first: date, last: date, reporting_currency: str) -> None:
    params = {"first": first, "end": next_month(last)}
    con.execute("begin transaction")
    try:
        con.execute("create schema if not exists simulation")
        con.execute(INVOICE_DIFF, params)
        con.execute(LINE_DIFF, params)
        con.execute(SUMMARY, {"reporting": reporting_currency})
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        raise
