-- The lines of invoices frozen by `tally finalize`.
-- full_units came after the first finalizations: a line frozen before it has none (the column
-- is missing or null). Its value is then known only when the line cannot be prorated, so it is
-- the line's units, except on a line of a charge or fixed charge the catalog prorates: there the
-- full units were not frozen, and a re-rating may count other units, so it stays null (decision 25).
{%- set columns = tally.invoice_line_columns() %}
with frozen as (
    {{ tally.finalized_or_empty('invoice_lines', ref('int_invoice_lines_rated'), columns) }}
),

prorated as (
    select charge_id, 'charge' as fee_type
    from {{ ref('stg_charges') }}
    where is_prorated
    union all
    select fixed_charge_id, 'fixed_charge'
    from {{ ref('stg_fixed_charges') }}
    where prorated
),

final as (
    select
        {%- for name in columns if name != 'full_units' %}
        frozen.{{ name }},
        {%- endfor %}
        cast(case
            when frozen.full_units is not null then frozen.full_units
            when prorated.charge_id is null then frozen.units
        end as {{ tally.num_type() }}) as full_units
    from frozen
    left join prorated
        on frozen.fee_type = prorated.fee_type
        and frozen.charge_id = prorated.charge_id
)

select * from final
