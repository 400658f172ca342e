{#- Current usage is "as of" the latest event time the daily meters hold (UTC) before the end
    of the run's window: the data is complete up to that instant as far as Tally knows. The
    window's end caps it, so that an event stamped in the future (a client's clock) cannot move
    every open period past today: the refresh job's window ends with the current month. Read
    from the daily meters (one row per day and bucket), not from events. -#}
{% macro usage_as_of() -%}
(select max(latest_at) from (
    select max(latest_event_at) as latest_at from {{ ref('int_usage_daily') }}
    where latest_event_at < cast({{ tally.billing_to() }} as timestamp)
    union all
    select max(last_event_at) as latest_at from {{ ref('int_unique_ids_daily') }}
    where last_event_at < cast({{ tally.billing_to() }} as timestamp)
) as latest)
{%- endmacro %}
