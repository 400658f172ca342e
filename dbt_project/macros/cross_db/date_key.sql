{#- yyyymmdd text of a date, for readable deterministic ids. -#}
{% macro date_key(d) %}{{ return(adapter.dispatch('date_key', 'tally')(d)) }}{% endmacro %}
{% macro default__date_key(d) %}strftime({{ d }}, '%Y%m%d'){% endmacro %}
{% macro spark__date_key(d) %}date_format({{ d }}, 'yyyyMMdd'){% endmacro %}
