-- Progressive billing: the charges it counts, and which of them it screens. Left out: the
-- aggregations without a running form (registry `running`: a weighted sum grows with time
-- elapsed, not with events). A charge is screened when its aggregation never lowers units
-- within a day but for a negative value (registry `screened`) and its charge model's amount
-- never falls as units grow (registry `monotone`); a subscription that sent it a negative
-- value is not screened (int_progressive_events). Screened charges are followed one state per
-- bucket and day, and replayed event by event only on the days a threshold can be crossed.
with charges as (
    select * from {{ ref('stg_charges') }}
),

metrics as (
    select * from {{ ref('stg_billable_metrics') }}
),

final as (
    select
        charges.charge_id,
        charges.plan_code,
        charges.billable_metric_code,
        charges.charge_model,
        charges.invoice_display_name,
        metrics.aggregation_type,
        metrics.rounding_function,
        metrics.rounding_precision,
        {{ tally.is_aggregation('metrics.aggregation_type', 'screened') }}
            and {{ tally.is_monotone('charges.charge_model') }} as is_screened
    from charges
    inner join metrics
        on charges.billable_metric_code = metrics.billable_metric_code
    where {{ tally.is_aggregation('metrics.aggregation_type', 'running') }}
        -- Lago's progressive invoices bill in-arrears charges only (decision 23)
        and not charges.pay_in_advance
)

select * from final
