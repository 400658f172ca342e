{#- package: free units first, then every started package billed in full:
    ceil((units − free_units) / package_size) × amount; nothing when units ≤ free units. -#}
{% macro default__charge_package(usage, buckets, tiers, events) -%}
select {{ tally.fee_grain('u') }},
    case when u.units - b.free_units <= 0 then {{ tally.to_num('0') }}
        else {{ tally.ceil_divide('u.units - b.free_units', 'b.package_size') }} * b.amount
    end as amount
from {{ usage }} as u
inner join {{ buckets }} as b
    on u.charge_id = b.charge_id and u.filter_index = b.filter_index
where u.charge_model = 'package'
{%- endmacro %}
