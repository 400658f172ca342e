{#- graduated_percentage (Lago graduated_percentage_service): like graduated, with a rate in
    percent per tier; tier units are min(units, to) − from + 1 (min(units, to) from 0) —
    no adjacent model. Every tier entered adds its flat_amount. -#}
{% macro default__charge_graduated_percentage(usage, buckets, tiers, events) -%}
select external_subscription_id, period_index, charge_id, filter_index, group_key,
    tier_index, from_value, to_value, per_unit_amount, flat_amount, rate, tier_units,
    tier_units * rate * cast(0.01 as decimal(3, 2)) + flat_amount as amount
from (
    select {{ tally.fee_grain('u') }},
        t.tier_index, t.from_value, t.to_value, t.per_unit_amount, t.flat_amount, t.rate,
        {{ tally.to_num("""case
        when t.from_value = 0 then least(u.units, coalesce(t.to_value, u.units))
        else least(u.units, coalesce(t.to_value, u.units)) - t.from_value + 1
    end""") }} as tier_units
    from {{ usage }} as u
    inner join {{ tiers }} as t
        on u.charge_id = t.charge_id and u.filter_index = t.filter_index
    where u.charge_model = 'graduated_percentage'
        and (t.tier_index = 1 or u.units > t.previous_to_value)
) as tiered
{%- endmacro %}
