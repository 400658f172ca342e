{#- graduated (Lago graduated_service + range_graduated_service): walk the tiers up to the
    first whose to_value (inclusive) reaches the units. Tier units are min(units, to) − from,
    +1 unless from = 0 or every range starts where the previous ends ("adjacent model").
    Every tier entered adds its whole flat_amount; at 0 units the first tier's flat is due.
    Returns one row per tier entered, for billing.fee_tiers. -#}
{% macro default__charge_graduated(usage, buckets, tiers, events) -%}
select external_subscription_id, period_index, charge_id, filter_index, group_key,
    tier_index, from_value, to_value, per_unit_amount, flat_amount, rate, tier_units,
    tier_units * per_unit_amount + flat_amount as amount
from (
    select {{ tally.fee_grain('u') }},
        t.tier_index, t.from_value, t.to_value, t.per_unit_amount, t.flat_amount, t.rate,
        {{ tally.to_num("""case
        when t.from_value = 0 then least(u.units, coalesce(t.to_value, u.units))
        when b.is_adjacent then least(u.units, coalesce(t.to_value, u.units)) - t.from_value
        else least(u.units, coalesce(t.to_value, u.units)) - t.from_value + 1
    end""") }} as tier_units
    from {{ usage }} as u
    inner join {{ buckets }} as b
        on u.charge_id = b.charge_id and u.filter_index = b.filter_index
    inner join {{ tiers }} as t
        on u.charge_id = t.charge_id and u.filter_index = t.filter_index
    where u.charge_model = 'graduated'
        and (t.tier_index = 1 or u.units > t.previous_to_value)
) as tiered
{%- endmacro %}
