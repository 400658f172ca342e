-- billing.fee_tiers: the tiers behind each graduated, volume and graduated-percentage line of
-- the invoices in billing.invoices: rated, or frozen when the invoice is finalized.
-- Adjustment lines carry differences of whole fees and have no tiers.
{%- set columns = tally.fee_tier_columns() %}
with invoices as (
    select * from {{ ref('fct_invoices') }}
),

rated as (
    select rated.*
    from {{ ref('int_fee_tiers_rated') }} as rated
    inner join invoices
        on rated.invoice_id = invoices.invoice_id
    where invoices.status = 'draft'
),

frozen as (
    select frozen.*
    from {{ ref('int_finalized_fee_tiers') }} as frozen
    inner join invoices
        on frozen.invoice_id = invoices.invoice_id
    where invoices.status = 'finalized'
),

final as (
    select {{ columns | join(', ') }} from rated
    union all
    select {{ columns | join(', ') }} from frozen
)

select * from final
