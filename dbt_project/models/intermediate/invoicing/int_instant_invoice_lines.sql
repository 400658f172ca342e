-- The invoice line of each invoiceable instant fee (int_instant_fees; decision 23):
--   - an event's fee, on the invoice of its own that Lago issues for a pay-in-advance event
--     (invoices/create_pay_in_advance_charge_service.rb), or, for a charge whose
--     instant_invoice_grouping is `day`, on one invoice per subscription and local day of the
--     event (invoice_kind `instant`). The line points to its event: line_id ends with the event's
--     key (a hash of its landed file, checksum and line, as billing.instant_fees shows);
--   - a recurring charge's opening fee (the next period's units billed in advance), on the
--     invoice closing the period it is rated with (invoice_kind `closing`), as Lago's period-end
--     run puts it on the renewal invoice (invoices/calculate_fees_service.rb); its line_id ends
--     with the first day of the period it covers.
-- Fees of charges with invoiceable = false get no line.
with fees as (
    select * from {{ ref('int_instant_fees') }}
    where is_invoiceable
),

periods as (
    select * from {{ ref('int_billing_periods') }}
),

keyed as (
    select
        fees.*,
        case when fees.fee_kind = 'event' then substring({{ dbt.hash(
            "fees.source_file || ':' || fees.file_checksum || ':' || cast(fees.line_number as " ~ dbt.type_string() ~ ")") }},
            1, 16) end as event_key
    from fees
),

final as (
    select
        case
            when keyed.fee_kind = 'opening'
                then 'inv_' || keyed.external_subscription_id || '_' || {{ tally.date_key('periods.period_start') }}
            when keyed.instant_invoice_grouping = 'day'
                then 'inv_' || keyed.external_subscription_id || '_' || {{ tally.date_key('keyed.usage_date') }} || '_adv'
            else 'inv_' || keyed.external_subscription_id || '_' || {{ tally.date_key('keyed.usage_date') }} || '_adv_'
                || keyed.charge_id || '_' || keyed.event_key
        end as invoice_id,
        case when keyed.fee_kind = 'opening' then 'closing' else 'instant' end as invoice_kind,
        keyed.charge_id || ':' || cast(keyed.filter_index as {{ dbt.type_string() }})
            || case when keyed.group_key = '' then '' else ':' || keyed.group_key end
            || ':' || coalesce(keyed.event_key, {{ tally.date_key('keyed.usage_date') }}) as line_key,
        'charge' as fee_type,
        keyed.charge_id,
        keyed.billable_metric_code,
        keyed.display_name,
        keyed.units,
        -- an instant fee's units are already its unprorated units (Lago compute_units:
        -- full_units_number; a prorated in-advance fee prices them prorated, int_instant_fees)
        keyed.units as full_units,
        keyed.events_count,
        case when keyed.units = 0 then {{ tally.to_num('0') }}
            else {{ tally.divide('keyed.precise_amount', 'keyed.units') }} end as unit_amount,
        keyed.precise_amount,
        keyed.amount,
        keyed.currency,
        keyed.external_subscription_id,
        keyed.external_customer_id,
        keyed.period_index,
        keyed.filter_index,
        keyed.group_key,
        keyed.ordinal,
        keyed.usage_date,
        keyed.event_at,
        keyed.event_key
    from keyed
    inner join periods
        on keyed.external_subscription_id = periods.external_subscription_id
        and keyed.period_index = periods.period_index
)

select * from final
