-- What progressive-billing invoices already billed is deducted, before taxes, from the next
-- invoice of the same period (Lago credits/progressive_billing_service): a progressive
-- invoice bills all usage of the period so far, so the next progressive invoice and the
-- period's closing invoice deduct the latest earlier one's fees. The deduction is capped at
-- the deducting invoice's charge fees; the excess (usage went down) is a credit note on
-- the earlier progressive invoice.
with invoices as (
    select * from {{ ref('int_invoices') }}
),

lines as (
    select * from {{ ref('int_invoice_lines') }}
),

progressive as (
    select * from invoices
    where invoice_type = 'progressive_billing'
),

progressive_fees as (
    select
        progressive.invoice_id,
        progressive.external_subscription_id,
        progressive.period_index,
        progressive.progressive_seq,
        sum(lines.amount) as fees_amount
    from progressive
    inner join lines
        on progressive.invoice_id = lines.invoice_id
    group by 1, 2, 3, 4
),

latest_progressive as (
    select * from (
        select
            progressive_fees.*,
            row_number() over (
                partition by progressive_fees.external_subscription_id, progressive_fees.period_index order by progressive_fees.progressive_seq desc
            ) as recency
        from progressive_fees
    ) as ranked
    where recency = 1
),

charge_fees as (
    select invoice_id, sum(amount) as charge_amount
    from lines
    where fee_type = 'charge'
    group by 1
),

deductions as (
    -- the next progressive invoice of the period deducts the previous one
    select
        later.invoice_id,
        earlier.invoice_id as credited_invoice_id,
        earlier.fees_amount as to_credit
    from progressive_fees as later
    inner join progressive_fees as earlier
        on later.external_subscription_id = earlier.external_subscription_id
        and later.period_index = earlier.period_index
        and later.progressive_seq = earlier.progressive_seq + 1
    union all
    -- the closing invoice deducts the period's latest progressive invoice
    select
        invoices.invoice_id,
        latest_progressive.invoice_id,
        latest_progressive.fees_amount
    from invoices
    inner join latest_progressive
        on invoices.external_subscription_id = latest_progressive.external_subscription_id
        and invoices.period_index = latest_progressive.period_index
    where invoices.invoice_kind = 'closing'
),

final as (
    select
        deductions.invoice_id,
        deductions.credited_invoice_id,
        invoices.external_customer_id,
        invoices.currency,
        invoices.issuing_date,
        invoices.issued_at,
        cast(deductions.to_credit as {{ tally.money_type() }}) as to_credit,
        cast(case when deductions.to_credit > coalesce(charge_fees.charge_amount, 0)
            then coalesce(charge_fees.charge_amount, 0) else deductions.to_credit end
            as {{ tally.money_type() }}) as credit_amount,
        cast(case when deductions.to_credit > coalesce(charge_fees.charge_amount, 0)
            then deductions.to_credit - coalesce(charge_fees.charge_amount, 0) else 0 end
            as {{ tally.money_type() }}) as excess_amount
    from deductions
    inner join invoices
        on deductions.invoice_id = invoices.invoice_id
    left join charge_fees
        on deductions.invoice_id = charge_fees.invoice_id
)

select * from final
