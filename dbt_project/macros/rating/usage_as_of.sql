{#- Current usage is "as of" the latest event time the daily meters hold (UTC): the data is
    complete up to that instant as far as Tally knows, and each subscription's open period is
    the billing period holding it. Read from the daily meters (one row per day and bucket), not
    from events. -#}
{% macro usage_as_of() -%}
(select max(latest_at) from (
    select max(latest_event_at) as latest_at from {{ ref('int_usage_daily') }}
    union all
    select max(last_event_at) as latest_at from {{ ref('int_unique_ids_daily') }}
) as latest)
{%- endmacro %}
