-- Every line with tier rows (usage, fixed-charge and instant fees alike) is its tiers' amount:
-- the unrounded tier amounts, 0 when negative, rounded once, half away from zero, to the
-- currency's minor unit (a fee is rounded once, after its model; the tiers stay unrounded).
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
    where lines.amount <> {{ tally.round_money('case when tiers.tiers_amount > 0 then tiers.tiers_amount else 0 end',
        'currencies.minor_unit') }}
)

select * from final
