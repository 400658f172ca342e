{#- Schemas are named by layer (staging, intermediate, marts), not prefixed with the target's.
    `tally simulate` builds the same models beside them, every schema prefixed with
    TALLY_SCHEMA_PREFIX (`simulation_`), from a candidate catalog in `simulation_catalog`
    (orchestration/simulation/). Unset, the prefix is empty: the billing schemas. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {{ tally.schema_prefix() ~ (custom_schema_name if custom_schema_name else target.schema) }}
{%- endmacro %}

{% macro schema_prefix() -%}
    {{ return(env_var('TALLY_SCHEMA_PREFIX', '')) }}
{%- endmacro %}
