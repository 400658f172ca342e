{#- dbt.dateadd on Spark, exact. dbt-spark 1.11's own spark__dateadd goes through Unix
    seconds: it drops a timestamp's fraction of a second, and by millisecond or microsecond it
    adds nothing (`cast(-1 * (1/1000000) as int)` is 0), so a subscription ending at midnight
    kept its last day (stg_subscriptions). Spark 4's timestampadd adds any unit to a date or
    timestamp and returns a timestamp, as DuckDB's `+ interval` does. (A project macro of this
    name replaces the adapter's.) -#}
{% macro spark__dateadd(datepart, interval, from_date_or_timestamp) -%}
    {%- set units = {'microsecond': 'MICROSECOND', 'millisecond': 'MILLISECOND', 'second': 'SECOND',
                     'minute': 'MINUTE', 'hour': 'HOUR', 'day': 'DAY', 'week': 'WEEK', 'month': 'MONTH',
                     'quarter': 'QUARTER', 'year': 'YEAR'} -%}
    {%- if datepart | lower not in units -%}
        {{ exceptions.raise_compiler_error("dateadd: no datepart '" ~ datepart ~ "' on Spark") }}
    {%- endif -%}
    timestampadd({{ units[datepart | lower] }}, {{ interval }}, {{ from_date_or_timestamp }})
{%- endmacro %}
