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

{#- Prorated graduated (Lago charge_models/prorated_graduated_service.rb): the steps of the
    meter (int_prorated_steps), in order, move the full units from F_before to F_after; the
    units between them sit in the tiers they fall in at that moment (tier t holds the units
    above previous_to_value up to to_value), each priced at the step's share of the period
    (prorated_units / full_units), so a step straddling a boundary is split, and a removal
    takes units back from the tier the count is in. Tier units = Σ prorated_units ×
    overlap / full_units; the flat amount of every tier the highest count reached (and of the
    first) is due, unprorated; with prorated units 0, the first tier's flat only; a negative
    total count, 0 (Lago result_with_flat_amount). -#}
{% macro default__charge_graduated_prorated(usage, buckets, tiers, steps) -%}
select external_subscription_id, period_index, charge_id, filter_index, group_key,
    tier_index, from_value, to_value, per_unit_amount, flat_amount, rate, tier_units,
    tier_units * per_unit_amount + flat_amount as amount
from (
    select {{ tally.fee_grain('u') }},
        t.tier_index, t.from_value, t.to_value, t.per_unit_amount,
        case when w.final_units < 0 then {{ tally.to_num('0') }} else t.flat_amount end as flat_amount,
        t.rate,
        {{ tally.to_num("""case when u.units = 0 or w.final_units < 0 then 0
            else coalesce(w.tier_units, 0) end""") }} as tier_units
    from {{ usage }} as u
    inner join {{ tiers }} as t
        on u.charge_id = t.charge_id and u.filter_index = t.filter_index
    left join (
        select grain.external_subscription_id, grain.period_index, grain.charge_id, grain.filter_index,
            grain.group_key, grain.tier_index, max(grain.highest_units) as highest_units,
            max(grain.final_units) as final_units,
            sum(grain.step_tier_units) as tier_units
        from (
            select walked.*, tt.tier_index,
                max(walked.units_after) over (partition by {{ tally.fee_grain('walked') }}) as highest_units,
                sum(walked.full_units) over (partition by {{ tally.fee_grain('walked') }}) as final_units,
                case when walked.full_units = 0 then 0 else {{ tally.divide(
                    """walked.prorated_units * (case when walked.full_units > 0 then 1 else -1 end)
                    * greatest(0, least(greatest(walked.units_before, walked.units_after), coalesce(tt.to_value, greatest(walked.units_before, walked.units_after)))
                       - greatest(least(walked.units_before, walked.units_after), coalesce(tt.previous_to_value, 0)))""",
                    'walked.full_units') }} end as step_tier_units,
                least(greatest(walked.units_before, walked.units_after), coalesce(tt.to_value, greatest(walked.units_before, walked.units_after)))
                    > greatest(least(walked.units_before, walked.units_after), coalesce(tt.previous_to_value, 0)) as is_overlapping
            from (
                select s.*,
                    sum(s.full_units) over (
                        partition by {{ tally.fee_grain('s') }} order by s.step_index
                        rows between unbounded preceding and current row) as units_after,
                    sum(s.full_units) over (
                        partition by {{ tally.fee_grain('s') }} order by s.step_index
                        rows between unbounded preceding and current row) - s.full_units as units_before
                from {{ steps }} as s
            ) as walked
            inner join {{ tiers }} as tt
                on walked.charge_id = tt.charge_id and walked.filter_index = tt.filter_index
        ) as grain
        where grain.is_overlapping or grain.tier_index = 1
        group by 1, 2, 3, 4, 5, 6
    ) as w
        on {{ tally.grain_join('u', 'w') }} and t.tier_index = w.tier_index
    left join (
        select {{ tally.fee_grain('s2') }}, max(s2.running) as highest_units
        from (
            select s1.*, sum(s1.full_units) over (
                partition by {{ tally.fee_grain('s1') }} order by s1.step_index
                rows between unbounded preceding and current row) as running
            from {{ steps }} as s1
        ) as s2
        group by 1, 2, 3, 4, 5
    ) as peak
        on {{ tally.grain_join('u', 'peak') }}
    where u.charge_model = 'graduated'
        and (t.tier_index = 1 or (u.units <> 0 and coalesce(peak.highest_units, 0) > t.previous_to_value))
) as tiered
{%- endmacro %}
