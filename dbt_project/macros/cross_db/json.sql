{#- Text value of a top-level key of a JSON object held as text; the key may be an SQL
    expression (charge filter keys and pricing group keys come from catalog rows). -#}
{% macro json_text(json_col, key_expr) %}{{ return(adapter.dispatch('json_text', 'tally')(json_col, key_expr)) }}{% endmacro %}
{% macro default__json_text(json_col, key_expr) %}json_extract_string({{ json_col }}, '$."' || ({{ key_expr }}) || '"'){% endmacro %}
{% macro spark__json_text(json_col, key_expr) %}get_json_object({{ json_col }}, concat('$.', {{ key_expr }})){% endmacro %}

{#- True when a JSON text is an object (the shape Lago requires for `properties`). -#}
{% macro is_json_object(txt) %}{{ return(adapter.dispatch('is_json_object', 'tally')(txt)) }}{% endmacro %}
{% macro default__is_json_object(txt) %}(case when json_valid({{ txt }}) then json_type({{ txt }}) = 'OBJECT' else false end){% endmacro %}
{% macro spark__is_json_object(txt) %}(from_json({{ txt }}, 'map<string,string>') is not null){% endmacro %}

{#- A canonical text form of a JSON object, so the same properties compare equal however they
    were spaced or ordered (top-level keys sorted). -#}
{% macro normalize_json(txt) %}{{ return(adapter.dispatch('normalize_json', 'tally')(txt)) }}{% endmacro %}
{% macro default__normalize_json(txt) %}cast(list_sort(map_entries(cast(json({{ txt }}) as map(varchar, json)))) as varchar){% endmacro %}
{% macro spark__normalize_json(txt) %}to_json(from_json({{ txt }}, 'map<string,string>')){% endmacro %}

{#- Lago's numeric test for sum/max/latest/weighted values: ^-?\d+(\.\d+)?$; with `digits`, at
    most that many digits before the point (macros/aggregations/_registry.sql numeric_in_range). -#}
{% macro is_numeric_text(txt, digits=none) %}{{ return(adapter.dispatch('is_numeric_text', 'tally')(txt, digits)) }}{% endmacro %}
{% macro default__is_numeric_text(txt, digits=none) %}regexp_full_match({{ txt }}, '-?[0-9]{{ '{1,' ~ digits ~ '}' if digits else '+' }}(\.[0-9]+)?'){% endmacro %}
{% macro spark__is_numeric_text(txt, digits=none) %}({{ txt }} rlike '^-?[0-9]{{ '{1,' ~ digits ~ '}' if digits else '+' }}(\\.[0-9]+)?$'){% endmacro %}

{% macro fingerprint(expr) %}{{ return(adapter.dispatch('fingerprint', 'tally')(expr)) }}{% endmacro %}
{% macro default__fingerprint(expr) %}md5({{ expr }}){% endmacro %}

{#- A Lago event as JSON, rebuilt from its typed columns (the landing keeps the original payload
    only for rows it rejects itself; a row rejected later is shown in this form). -#}
{% macro event_json(alias) %}{{ return(adapter.dispatch('event_json', 'tally')(alias)) }}{% endmacro %}
{% macro default__event_json(a) -%}
cast(json_object('transaction_id', {{ a }}.transaction_id, 'external_customer_id', {{ a }}.external_customer_id,
    'external_subscription_id', {{ a }}.external_subscription_id, 'code', {{ a }}.billable_metric_code,
    'timestamp', strftime({{ a }}.event_at, '%Y-%m-%dT%H:%M:%S.%fZ'), 'properties', json({{ a }}.properties)) as varchar)
{%- endmacro %}
{#- Spark: nulls kept as DuckDB's json_object does; properties spliced in as the landed JSON
    text with the whitespace outside strings removed (DuckDB's json() minifies), not through a
    map, which would turn numbers into strings. -#}
{% macro spark__event_json(a) -%}
{%- set head -%}
to_json(named_struct('transaction_id', {{ a }}.transaction_id, 'external_customer_id', {{ a }}.external_customer_id,
    'external_subscription_id', {{ a }}.external_subscription_id, 'code', {{ a }}.billable_metric_code,
    'timestamp', date_format({{ a }}.event_at, "yyyy-MM-dd'T'HH:mm:ss.SSSSSS'Z'")), map('ignoreNullFields', 'false'))
{%- endset -%}
concat(substring({{ head }}, 1, length({{ head }}) - 1), ',"properties":',
    coalesce(regexp_replace({{ a }}.properties, '("(?:[^"\\\\]|\\\\.)*")|\\s+', '$1'), 'null'), '}')
{%- endmacro %}
