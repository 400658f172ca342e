{#- Spark: the databases a `tally run --engine spark` writes besides dbt's (raw, catalog,
    billing, finalized). Called first: it also opens the session, with the profile's settings. -#}
{% macro spark_create_schemas(schemas) %}
    {%- for schema in schemas -%}
        {%- do run_query('create database if not exists ' ~ schema) -%}
    {%- endfor -%}
{% endmacro %}
