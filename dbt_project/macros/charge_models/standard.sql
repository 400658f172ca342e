{#- standard: units × amount (Lago standard_service). -#}
{% macro default__charge_standard(usage, buckets, tiers, events) -%}
select {{ tally.fee_grain('u') }},
    u.units * b.amount as amount
from {{ usage }} as u
inner join {{ buckets }} as b
    on u.charge_id = b.charge_id and u.filter_index = b.filter_index
where u.charge_model = 'standard'
{%- endmacro %}
