{#- A fixed charge's price as the charge model registry reads it (price_fees / price_tiers), at
    the fee grain: one bucket (filter_index 0), no package, no free units. int_fixed_charge_fees
    prices with these relations and int_fixed_charge_tiers shows the tiers of the same price, so
    both must read the same rows. `rate`: graduated and volume have none; the fee reads 0, the
    published tier row shows null. -#}
{% macro fixed_charge_price_tiers(rate='0') -%}
    select
        fixed_charge_id as charge_id,
        0 as filter_index,
        tier_index,
        from_value,
        to_value,
        per_unit_amount,
        flat_amount,
        {{ tally.to_num(rate) }} as rate,
        lag(to_value) over (partition by fixed_charge_id order by tier_index) as previous_to_value
    from {{ ref('stg_fixed_charge_tiers') }}
{%- endmacro %}

{% macro fixed_charge_price_buckets() -%}
    select
        fixed_charges.fixed_charge_id as charge_id,
        0 as filter_index,
        fixed_charges.amount,
        cast(null as bigint) as package_size,
        {{ tally.to_num('0') }} as free_units,
        coalesce(max(tiers.is_adjacent), false) as is_adjacent
    from {{ ref('stg_fixed_charges') }} as fixed_charges
    left join {{ ref('stg_fixed_charge_tiers') }} as tiers
        on fixed_charges.fixed_charge_id = tiers.fixed_charge_id
    group by 1, 2, 3, 4, 5
{%- endmacro %}
