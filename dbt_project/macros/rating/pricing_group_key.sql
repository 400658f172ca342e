{#- A readable, deterministic key for Lago's pricing_group_keys: `region=eu, tier=gold`;
    a missing property shows as `region=` (its own group, as Lago's nil group). '' = no grouping.
    Keys fill columns 1..3 in order, so a null column ends the list. -#}
{% macro pricing_group_key(properties, key_columns) -%}
({% for key in key_columns -%}
    coalesce(case when {{ key }} is not null
        then {% if not loop.first %}', ' || {% endif %}{{ key }} || '=' || coalesce({{ tally.json_text(properties, key) }}, '')
    end, ''){% if not loop.last %} || {% endif %}
{%- endfor %})
{%- endmacro %}
