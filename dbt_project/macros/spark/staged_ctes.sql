{#- Spark: a model whose SQL is a long chain of CTEs reused many times (progressive billing,
    coupons, wallet allocation) makes Spark's analyzer and optimizer run for minutes, then fail
    ("Max iterations reached", or out of heap): each reference brings the whole chain above it
    into the plan. A model with `meta: {spark_stage_ctes: true}` (dbt_project.yml) is built on
    Spark in steps instead: every top-level CTE that two or more later steps read is first
    written as a table of its own, `<model>__stage_<cte>` in the model's schema (replaced on each
    build), and read back as `<cte> as (select * from <table>)`, so no plan holds more than one
    step. The SQL is the model's, unchanged; DuckDB (which plans it in a second) never sees this. -#}

{#- (prefix, [(name, body)], final select) of a compiled query `with a as (...), ... select ...`;
    none when it is not of that shape. Strings, quoted names and comments are skipped. -#}
{% macro split_top_level_ctes(sql) %}
    {%- set re = modules.re -%}
    {%- set pattern = "'(?:[^'\\\\]|\\\\.|'')*'|`[^`]*`|--[^\\n]*|/\\*[\\s\\S]*?\\*/|\\b([A-Za-z_][A-Za-z_0-9]*)\\s+as\\s*\\(|\\(|\\)|\\bselect\\b|\\bwith\\b" -%}
    {%- set ns = namespace(depth=0, name=none, body_start=0, with_at=none, final_at=none, ctes=[]) -%}
    {%- for m in re.finditer(pattern, sql, re.I) if ns.final_at is none -%}
        {%- set token = m.group(0) -%}
        {%- set lower = token | lower -%}
        {%- if token[0] in ["'", '`'] or token[:2] in ['--', '/*'] -%}
        {%- elif m.group(1) -%}
            {%- if ns.depth == 0 and ns.with_at is not none -%}
                {%- set ns.name = m.group(1) -%}
                {%- set ns.body_start = m.end() -%}
            {%- endif -%}
            {%- set ns.depth = ns.depth + 1 -%}
        {%- elif token == '(' -%}
            {%- set ns.depth = ns.depth + 1 -%}
        {%- elif token == ')' -%}
            {%- set ns.depth = ns.depth - 1 -%}
            {%- if ns.depth == 0 and ns.name is not none -%}
                {%- do ns.ctes.append((ns.name, sql[ns.body_start:m.start()])) -%}
                {%- set ns.name = none -%}
            {%- endif -%}
        {%- elif ns.depth == 0 and lower == 'with' and ns.with_at is none -%}
            {%- set ns.with_at = m.start() -%}
        {%- elif ns.depth == 0 and lower == 'select' and ns.with_at is not none and ns.ctes -%}
            {%- set ns.final_at = m.start() -%}
        {%- endif -%}
    {%- endfor -%}
    {%- if ns.final_at is none or not ns.ctes -%}
        {{ return(none) }}
    {%- endif -%}
    {{ return((sql[:ns.with_at], ns.ctes, sql[ns.final_at:])) }}
{% endmacro %}

{#- `with` + the CTEs among `ctes` that `text` reads, directly or through others (staged ones
    read from their tables), in their order, then `text` -#}
{% macro _with_needed_ctes(ctes, staged, text) %}
    {%- set re = modules.re -%}
    {%- set ns = namespace(needed=[], frontier=[text]) -%}
    {%- for _ in range(ctes | length + 1) if ns.frontier -%}
        {%- set found = [] -%}
        {%- for name, body in ctes if name not in ns.needed -%}
            {%- for t in ns.frontier if name not in found -%}
                {%- if re.search('\\b' ~ name ~ '\\b', t) -%}{%- do found.append(name) -%}{%- endif -%}
            {%- endfor -%}
        {%- endfor -%}
        {%- set ns.needed = ns.needed + found -%}
        {%- set ns.frontier = [] -%}
        {%- for name, body in ctes if name in found and name not in staged -%}
            {%- do ns.frontier.append(body) -%}
        {%- endfor -%}
    {%- endfor -%}
    {%- set parts = [] -%}
    {%- for name, body in ctes if name in ns.needed -%}
        {%- do parts.append(name ~ ' as (' ~ ('select * from ' ~ staged[name] if name in staged else body) ~ ')') -%}
    {%- endfor -%}
    {{ return(('with ' ~ parts | join(',\n') ~ '\n' if parts else '') ~ text) }}
{% endmacro %}

{#- Write the CTEs two or more later steps read as tables; the query that remains. -#}
{% macro spark_stage_ctes(relation, compiled_code) %}
    {%- set split = tally.split_top_level_ctes(compiled_code) -%}
    {%- if split is none -%}{{ return(compiled_code) }}{%- endif -%}
    {%- set prefix, ctes, final = split -%}
    {%- set re = modules.re -%}
    {%- set staged = {} -%}
    {%- for name, body in ctes -%}
        {%- set readers = [] -%}
        {%- for later_name, later_body in ctes[loop.index:] -%}
            {%- if re.search('\\b' ~ name ~ '\\b', later_body) -%}{%- do readers.append(later_name) -%}{%- endif -%}
        {%- endfor -%}
        {%- if re.search('\\b' ~ name ~ '\\b', final) -%}{%- do readers.append('final select') -%}{%- endif -%}
        {%- if readers | length >= 2 -%}
            {%- set stage = relation.incorporate(path={'identifier': relation.identifier ~ '__stage_' ~ name}) -%}
            {%- do run_query('drop table if exists ' ~ stage) -%}
            {%- do run_query('create table ' ~ stage ~ ' using parquet as\n'
                             ~ tally._with_needed_ctes(ctes[:loop.index0], staged, body)) -%}
            {%- do staged.update({name: stage | string}) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(prefix ~ tally._with_needed_ctes(ctes, staged, final)) }}
{% endmacro %}

{#- dbt-spark 1.11's spark__create_table_as (macros/adapters.sql), unchanged but for the steps
    above for models that ask for them (a root project's macro of this name replaces the
    adapter's, which cannot be called from here) -#}
{% macro spark__create_table_as(temporary, relation, compiled_code, language='sql') -%}
  {%- if language == 'sql' -%}
    {%- if temporary -%}
      {{ create_temporary_view(relation, compiled_code) }}
    {%- else -%}
      {%- if (config.get('meta') or {}).get('spark_stage_ctes') -%}
        {%- set compiled_code = tally.spark_stage_ctes(relation, compiled_code) -%}
      {%- endif -%}
      {% if config.get('file_format', validator=validation.any[basestring]) in ['delta', 'iceberg'] %}
        create or replace table {{ relation }}
      {% else %}
        create table {{ relation }}
      {% endif %}
      {%- set contract_config = config.get('contract') -%}
      {%- if contract_config.enforced -%}
        {{ get_assert_columns_equivalent(compiled_code) }}
        {%- set compiled_code = get_select_subquery(compiled_code) %}
      {% endif %}
      {{ file_format_clause() }}
      {{ options_clause() }}
      {{ tblproperties_clause() }}
      {{ partition_cols(label="partitioned by") }}
      {{ clustered_cols(label="clustered by") }}
      {{ location_clause() }}
      {{ comment_clause() }}

      as
      {{ compiled_code }}
    {%- endif -%}
  {%- elif language == 'python' -%}
    {{ py_write_table(compiled_code=compiled_code, target_relation=relation) }}
  {%- endif -%}
{%- endmacro %}
