-- Every line with tier rows (usage, fixed-charge and instant fees alike) is its tiers' amount:
-- the unrounded tier amounts, 0 when negative, within half the currency's minor unit of the line
-- (a fee is rounded once, after its model; the tiers stay unrounded). The tiers price units kept
-- to 10 decimals, the fee the aggregation's own: a weighted sum's 538.58333... KWD at 1.398 a
-- unit is 752.9394999999 in the tiers and 752.9395 in the fee, so 1e-9 of slack, far below
-- any minor unit, keeps an exact half from failing the run.
with tiers as (
    select line_id, sum(amount) as tiers_amount
    from {{ ref('fct_fee_tiers') }}
    group by 1
),

lines as (
    select * from {{ ref('fct_invoice_lines') }}
),

currencies as (
    select * from {{ ref('currencies') }}
),

final as (
    select
        lines.invoice_id,
        lines.line_id,
        lines.amount,
        tiers.tiers_amount
    from tiers
    inner join lines
        on tiers.line_id = lines.line_id
    inner join currencies
        on lines.currency = currencies.currency
    where abs(lines.amount - case when tiers.tiers_amount > 0 then tiers.tiers_amount else 0 end)
        > 0.5 / power(10, currencies.minor_unit) + 0.000000001
)

select * from final
