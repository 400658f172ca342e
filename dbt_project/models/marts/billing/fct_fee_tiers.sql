-- billing.fee_tiers: the tiers behind each graduated, volume and graduated-percentage line of
-- the invoices in billing.invoices: rated, or frozen when the invoice is finalized.
-- Adjustment lines carry differences of whole fees and have no tiers.
{%- set columns = tally.fee_tier_columns() %}
with rated as (
    {{ tally.rows_of_published_invoices(ref('int_fee_tiers_rated'), 'draft') }}
),

frozen as (
    {{ tally.rows_of_published_invoices(ref('int_finalized_fee_tiers'), 'finalized') }}
),

final as (
    select {{ columns | join(', ') }} from rated
    union all
    select {{ columns | join(', ') }} from frozen
)

select * from final
