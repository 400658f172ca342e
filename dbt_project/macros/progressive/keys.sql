{#- Progressive billing (models/intermediate/progressive/): the columns its models share.
    Stored states are keyed by natural columns (no surrogate key), so that per-period
    incremental models agree across builds. -#}

{#- a price bucket of a billable period -#}
{%- macro progressive_bucket() %}external_subscription_id, period_index, charge_id, filter_index, group_key{% endmacro -%}

{#- a bucket state's own columns, carried from event to state -#}
{%- macro progressive_identity() %}{{ tally.progressive_bucket() }}, charge_model, rounding_function, rounding_precision{% endmacro -%}

{#- events in a bucket, in the order int_usage_by_period picks the latest value -#}
{%- macro progressive_event_order() %}event_at, source_file, line_number, file_checksum{% endmacro -%}

{#- the screen's day of an instant: its UTC date -#}
{%- macro progressive_day(column) %}cast({{ column }} as date){% endmacro -%}
