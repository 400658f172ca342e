{#- volume (Lago volume_service): ONE range prices all units — the first, by from_value, with
    from_value ≤ ceil(units) and units ≤ to_value (so 100.5 with 0–100 / 101–200 takes the
    second). Amount = units × its per_unit_amount + its flat_amount; 0 units → first range.
    Prorated (Lago volume_service matching_range): the range is picked by the full units
    (`full_units`, unprorated), the per-unit price applies to the prorated units, the flat
    amount is not prorated. -#}
{% macro default__charge_volume(usage, buckets, tiers, events) -%}
{{ tally.volume_priced(usage, tiers, 'u.units') }}
{%- endmacro %}

{#- Prorated volume: the range picked by the full units. -#}
{% macro default__charge_volume_prorated(usage, buckets, tiers, steps) -%}
{{ tally.volume_priced(usage, tiers, 'u.full_units') }}
{%- endmacro %}

{% macro volume_priced(usage, tiers, range_units) -%}
select grain_external_subscription_id as external_subscription_id, grain_period_index as period_index,
    grain_charge_id as charge_id, grain_filter_index as filter_index, grain_group_key as group_key,
    tier_index, from_value, to_value, per_unit_amount, flat_amount, rate, tier_units, amount
from (
    select
        u.external_subscription_id as grain_external_subscription_id, u.period_index as grain_period_index,
        u.charge_id as grain_charge_id, u.filter_index as grain_filter_index, u.group_key as grain_group_key,
        t.tier_index, t.from_value, t.to_value, t.per_unit_amount, t.flat_amount, t.rate,
        u.units as tier_units,
        u.units * t.per_unit_amount + t.flat_amount as amount,
        row_number() over (
            partition by {{ tally.fee_grain('u') }}
            order by case when t.from_value <= ceil({{ range_units }})
                    and (t.to_value is null or {{ range_units }} <= t.to_value)
                then 0 else 1 end, t.from_value
        ) as match_rank,
        t.from_value <= ceil({{ range_units }})
            and (t.to_value is null or {{ range_units }} <= t.to_value) as is_match
    from {{ usage }} as u
    inner join {{ tiers }} as t
        on u.charge_id = t.charge_id and u.filter_index = t.filter_index
    where u.charge_model = 'volume'
) as ranked
where match_rank = 1 and (is_match or tier_units = 0)
{%- endmacro %}
