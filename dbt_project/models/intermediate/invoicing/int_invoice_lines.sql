-- One row per fee, on every invoice of int_invoices:
--   subscription  the plan's fee (closing or opening invoice)
--   charge        each charge bucket's usage fee (the period's, or so far on a progressive
--                 invoice), and each charge's min_amount true-up
--                 (Lago's true-up fee: that charge_id, 0 events)
--   commitment    the shortfall under the plan's minimum commitment
--   credit        prepaid credits bought
--   charge        (instant invoices) each invoiceable instant fee (int_instant_invoice_lines);
--                 (closing invoices) a recurring pay-in-advance charge's opening fee for the
--                 next period (int_instant_invoice_lines, invoice_kind closing)
--   fixed_charge, add_on  fixed charges and one-off fees (int_add_on_lines)
-- full_units: a prorated charge's or fixed charge's units before proration (the line's units are
-- prorated); on every other line the units themselves (decision 25)
with invoices as (
    select * from {{ ref('int_invoices') }}
),

subscription_fees as (
    select * from {{ ref('int_subscription_fees') }}
),

charge_fees as (
    select * from {{ ref('int_charge_fees') }}
),

true_ups as (
    select * from {{ ref('int_charge_true_ups') }}
),

commitments as (
    select * from {{ ref('int_commitment_fees') }}
),

progressive_fees as (
    select * from {{ ref('int_progressive_fees') }}
),

purchases as (
    select * from {{ ref('int_wallet_transactions') }}
    where kind = 'purchased'
),

service_periods as (
    select * from {{ ref('int_billing_periods') }}
),

subscription_lines as (
    select
        invoices.invoice_id,
        invoices.invoice_id || ':subscription:' || {{ tally.date_key('service_periods.period_start') }} as line_id,
        'subscription' as fee_type,
        cast(null as {{ dbt.type_string() }}) as charge_id,
        cast(null as {{ dbt.type_string() }}) as billable_metric_code,
        cast(null as {{ dbt.type_string() }}) as display_name,
        {{ tally.to_num('1') }} as units,
        {{ tally.to_num('1') }} as full_units,
        0 as events_count,
        subscription_fees.precise_amount as unit_amount,
        subscription_fees.precise_amount,
        subscription_fees.amount,
        subscription_fees.currency
    from invoices
    inner join subscription_fees
        on invoices.external_subscription_id = subscription_fees.external_subscription_id
        and invoices.period_index = subscription_fees.invoice_period_index
        and invoices.invoice_kind = subscription_fees.invoice_kind
    inner join service_periods
        on subscription_fees.external_subscription_id = service_periods.external_subscription_id
        and subscription_fees.service_period_index = service_periods.period_index
),

-- usage fees: a closing invoice's full-period fees, a progressive invoice's fees so far
usage_fees as (
    select
        external_subscription_id, period_index, 'closing' as invoice_kind, 0 as progressive_seq,
        charge_id, filter_index, group_key, billable_metric_code, display_name, units, full_units, events_count,
        precise_amount, amount
    from charge_fees
    union all
    select
        external_subscription_id, period_index, 'progressive', progressive_seq,
        -- a prorated charge is refused on a plan with usage thresholds (decision 21): never prorated
        charge_id, filter_index, group_key, billable_metric_code, display_name, units, units, events_count,
        precise_amount, amount
    from progressive_fees
),

charge_lines as (
    select
        invoices.invoice_id,
        invoices.invoice_id || ':' || usage_fees.charge_id || ':' || cast(usage_fees.filter_index as {{ dbt.type_string() }})
            || case when usage_fees.group_key = '' then '' else ':' || usage_fees.group_key end as line_id,
        'charge' as fee_type,
        usage_fees.charge_id,
        usage_fees.billable_metric_code,
        usage_fees.display_name,
        usage_fees.units,
        usage_fees.full_units,
        usage_fees.events_count,
        case when usage_fees.units = 0 then {{ tally.to_num('0') }}
            else {{ tally.divide('usage_fees.precise_amount', 'usage_fees.units') }} end as unit_amount,
        usage_fees.precise_amount,
        usage_fees.amount,
        invoices.currency
    from invoices
    inner join usage_fees
        on invoices.external_subscription_id = usage_fees.external_subscription_id
        and invoices.period_index = usage_fees.period_index
        and invoices.invoice_kind = usage_fees.invoice_kind
        and coalesce(invoices.progressive_seq, 0) = usage_fees.progressive_seq
),

true_up_lines as (
    select
        invoices.invoice_id,
        invoices.invoice_id || ':' || true_ups.charge_id || ':true_up' as line_id,
        'charge' as fee_type,
        true_ups.charge_id,
        true_ups.billable_metric_code,
        true_ups.display_name || ' (minimum spend)' as display_name,
        {{ tally.to_num('1') }} as units,
        {{ tally.to_num('1') }} as full_units,
        0 as events_count,
        true_ups.precise_amount as unit_amount,
        true_ups.precise_amount,
        true_ups.amount,
        true_ups.currency
    from invoices
    inner join true_ups
        on invoices.external_subscription_id = true_ups.external_subscription_id
        and invoices.period_index = true_ups.period_index
    where invoices.invoice_kind = 'closing'
),

commitment_lines as (
    select
        invoices.invoice_id,
        invoices.invoice_id || ':commitment' as line_id,
        'commitment' as fee_type,
        cast(null as {{ dbt.type_string() }}) as charge_id,
        cast(null as {{ dbt.type_string() }}) as billable_metric_code,
        'Minimum commitment' as display_name,
        {{ tally.to_num('1') }} as units,
        {{ tally.to_num('1') }} as full_units,
        0 as events_count,
        commitments.precise_amount as unit_amount,
        commitments.precise_amount,
        commitments.amount,
        commitments.currency
    from invoices
    inner join commitments
        on invoices.external_subscription_id = commitments.external_subscription_id
        and invoices.period_index = commitments.period_index
    where invoices.invoice_kind = 'closing'
),

credit_lines as (
    select
        invoices.invoice_id,
        invoices.invoice_id || ':credit' as line_id,
        'credit' as fee_type,
        cast(null as {{ dbt.type_string() }}) as charge_id,
        cast(null as {{ dbt.type_string() }}) as billable_metric_code,
        'Prepaid credits (' || purchases.wallet_id || ')' as display_name,
        {{ tally.to_num('purchases.credits') }} as units,
        {{ tally.to_num('purchases.credits') }} as full_units,
        0 as events_count,
        purchases.rate_amount as unit_amount,
        {{ tally.to_num('purchases.credits * purchases.rate_amount') }} as precise_amount,
        purchases.amount,
        purchases.currency
    from invoices
    inner join purchases
        on invoices.invoice_id = 'inv_credit_' || purchases.wallet_id || '_'
            || cast(purchases.line_number as {{ dbt.type_string() }})
    where invoices.invoice_kind = 'credit'
),

final as (
    select * from subscription_lines
    union all
    select * from charge_lines
    union all
    select * from true_up_lines
    union all
    select * from commitment_lines
    union all
    select * from credit_lines
    union all
    select
        invoice_id, invoice_id || ':' || line_key, fee_type, charge_id, billable_metric_code, display_name, units,
        full_units, events_count, unit_amount, precise_amount, amount, currency
    from {{ ref('int_instant_invoice_lines') }}
    union all
    select * from {{ ref('int_add_on_lines') }}
)

select * from final
