{#- The grain every charge model works at: one fee per period, charge, price bucket and group. -#}
{% macro fee_grain(alias) -%}
{{ alias }}.external_subscription_id, {{ alias }}.period_index, {{ alias }}.charge_id, {{ alias }}.filter_index, {{ alias }}.group_key
{%- endmacro %}

{% macro grain_join(left, right) -%}
{{ left }}.external_subscription_id = {{ right }}.external_subscription_id
    and {{ left }}.period_index = {{ right }}.period_index
    and {{ left }}.charge_id = {{ right }}.charge_id
    and {{ left }}.filter_index = {{ right }}.filter_index
    and {{ left }}.group_key = {{ right }}.group_key
{%- endmacro %}
