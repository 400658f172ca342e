-- One row per fee, on every invoice of int_invoices:
--   subscription  the plan's fee (closing or opening invoice)
--   charge        each charge bucket's usage fee, and each charge's min_amount true-up
--                 (Lago's true-up fee: that charge_id, 0 events)
--   commitment    the shortfall under the plan's minimum commitment
--   charge (pb)   the usage so far on a progressive-billing invoice
--   credit        prepaid credits bought
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

charge_lines as (
    select
        invoices.invoice_id,
        invoices.invoice_id || ':' || charge_fees.charge_id || ':' || cast(charge_fees.filter_index as {{ dbt.type_string() }})
            || case when charge_fees.group_key = '' then '' else ':' || charge_fees.group_key end as line_id,
        'charge' as fee_type,
        charge_fees.charge_id,
        charge_fees.billable_metric_code,
        charge_fees.display_name,
        charge_fees.units,
        charge_fees.events_count,
        case when charge_fees.units = 0 then {{ tally.to_num('0') }}
            else {{ tally.divide('charge_fees.precise_amount', 'charge_fees.units') }} end as unit_amount,
        charge_fees.precise_amount,
        charge_fees.amount,
        charge_fees.currency
    from invoices
    inner join charge_fees
        on invoices.external_subscription_id = charge_fees.external_subscription_id
        and invoices.period_index = charge_fees.period_index
    where invoices.invoice_kind = 'closing'
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

progressive_lines as (
    select
        invoices.invoice_id,
        invoices.invoice_id || ':' || progressive_fees.charge_id || ':'
            || cast(progressive_fees.filter_index as {{ dbt.type_string() }})
            || case when progressive_fees.group_key = '' then '' else ':' || progressive_fees.group_key end as line_id,
        'charge' as fee_type,
        progressive_fees.charge_id,
        progressive_fees.billable_metric_code,
        progressive_fees.display_name,
        progressive_fees.units,
        progressive_fees.events_count,
        case when progressive_fees.units = 0 then {{ tally.to_num('0') }}
            else {{ tally.divide('progressive_fees.precise_amount', 'progressive_fees.units') }} end as unit_amount,
        progressive_fees.precise_amount,
        progressive_fees.amount,
        invoices.currency
    from invoices
    inner join progressive_fees
        on invoices.external_subscription_id = progressive_fees.external_subscription_id
        and invoices.period_index = progressive_fees.period_index
        and invoices.progressive_seq = progressive_fees.progressive_seq
    where invoices.invoice_kind = 'progressive'
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
    select * from progressive_lines
    union all
    select * from credit_lines
)

select * from final
