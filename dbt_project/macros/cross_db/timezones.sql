{#- Naive timestamps in the warehouse are always UTC; these convert to and from a customer's
    local wall-clock time. DuckDB needs its ICU functions, Spark has the pair built in. -#}
{% macro local_to_utc(ts, tz) %}{{ return(adapter.dispatch('local_to_utc', 'tally')(ts, tz)) }}{% endmacro %}
{% macro default__local_to_utc(ts, tz) %}(({{ ts }}) at time zone ({{ tz }}) at time zone 'UTC'){% endmacro %}
{% macro duckdb__local_to_utc(ts, tz) %}timezone('UTC', timezone({{ tz }}, cast({{ ts }} as timestamp))){% endmacro %}
{% macro spark__local_to_utc(ts, tz) %}to_utc_timestamp(cast({{ ts }} as timestamp), {{ tz }}){% endmacro %}

{% macro utc_to_local(ts, tz) %}{{ return(adapter.dispatch('utc_to_local', 'tally')(ts, tz)) }}{% endmacro %}
{% macro default__utc_to_local(ts, tz) %}(({{ ts }}) at time zone 'UTC' at time zone ({{ tz }})){% endmacro %}
{% macro duckdb__utc_to_local(ts, tz) %}timezone({{ tz }}, timezone('UTC', cast({{ ts }} as timestamp))){% endmacro %}
{% macro spark__utc_to_local(ts, tz) %}from_utc_timestamp(cast({{ ts }} as timestamp), {{ tz }}){% endmacro %}

{#- Event timestamps arrive as ISO-8601 text (with or without offset; none means UTC) or as
    Unix seconds, integer or fractional. Unparseable text gives null, which stg_events reports. -#}
{% macro parse_event_timestamp(txt) %}{{ return(adapter.dispatch('parse_event_timestamp', 'tally')(txt)) }}{% endmacro %}
{% macro duckdb__parse_event_timestamp(txt) -%}
case
    when regexp_full_match(trim({{ txt }}), '-?[0-9]{1,12}(\.[0-9]+)?')
        then make_timestamp(cast(round(cast(trim({{ txt }}) as decimal(38, 9)) * 1000000) as bigint))
    else timezone('UTC', try_cast(replace(trim({{ txt }}), ' ', 'T') as timestamptz))
end
{%- endmacro %}
{% macro spark__parse_event_timestamp(txt) -%}
case
    when trim({{ txt }}) rlike '^-?[0-9]{1,12}(\\.[0-9]+)?$'
        then timestamp_micros(cast(round(cast(trim({{ txt }}) as decimal(38, 9)) * 1000000) as bigint))
    else to_utc_timestamp(try_to_timestamp(trim({{ txt }})), 'UTC')
end
{%- endmacro %}

{#- Microseconds between two timestamps, exact (weighted sums are time-weighted). -#}
{% macro micros_between(start_ts, end_ts) %}{{ return(adapter.dispatch('micros_between', 'tally')(start_ts, end_ts)) }}{% endmacro %}
{% macro default__micros_between(start_ts, end_ts) %}date_diff('microsecond', {{ start_ts }}, {{ end_ts }}){% endmacro %}
{% macro spark__micros_between(start_ts, end_ts) %}(unix_micros({{ end_ts }}) - unix_micros({{ start_ts }})){% endmacro %}

{#- A catalog date or datetime (validated by orchestration/catalog.py) as a UTC instant: a bare
    date (YYYY-MM-DD) is 00:00 UTC of that day, a datetime without offset is UTC. Null stays null. -#}
{% macro utc_date_or_timestamp(txt) -%}
case
    when length({{ txt }}) = 10 then cast(cast({{ txt }} as date) as timestamp)
    else {{ tally.parse_event_timestamp(txt) }}
end
{%- endmacro %}
