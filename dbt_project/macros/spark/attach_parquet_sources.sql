{#- Spark: declare every dbt source as a table over Parquet files written elsewhere (by DuckDB,
    or by a landing job), `<root>/<source schema>/<table>/`, so the models read the same inputs
    on either engine. Existing definitions are replaced; the files are not copied.
    `dbt run-operation attach_parquet_sources --args '{root: /abs/path}' --target spark` -#}
{% macro attach_parquet_sources(root) %}
    {%- if target.type != 'spark' -%}
        {{ exceptions.raise_compiler_error('attach_parquet_sources is for the spark target') }}
    {%- endif -%}
    {%- for node in graph.sources.values() | sort(attribute='unique_id') -%}
        {%- do run_query('create database if not exists ' ~ node.schema) -%}
        {%- do run_query('drop table if exists ' ~ node.schema ~ '.' ~ node.identifier) -%}
        {%- do run_query('create table ' ~ node.schema ~ '.' ~ node.identifier ~ " using parquet location '"
                         ~ root ~ '/' ~ node.schema ~ '/' ~ node.identifier ~ "'") -%}
        {{ log('attached ' ~ node.schema ~ '.' ~ node.identifier, info=true) }}
    {%- endfor -%}
{% endmacro %}
