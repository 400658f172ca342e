{#- The aggregation registry (var `aggregations`, dbt_project.yml): models loop over it, so that
    no model names an aggregation; each aggregation's SQL is its own macros,
    default__aggregation_<name>[_running|_units], reached through adapter.dispatch. -#}

{#- The names of the registered aggregations, in registry order; only those whose entry has
    `key` equal to `value` when given (an absent key is false). -#}
{% macro aggregations(key=none, value=true) -%}
    {%- set names = [] -%}
    {%- for name, entry in var('aggregations').items() -%}
        {%- if key is none or entry.get(key, false) == value -%}{%- do names.append(name) -%}{%- endif -%}
    {%- endfor -%}
    {{ return(names) }}
{%- endmacro %}

{#- SQL: is `column` one of the aggregations whose entry has `key` equal to `value`? -#}
{% macro is_aggregation(column, key, value=true) -%}
    {%- set names = tally.aggregations(key, value) -%}
    {%- if names -%}
({{ column }} in ({% for name in names %}'{{ name }}'{% if not loop.last %}, {% endif %}{% endfor %}))
    {%- else -%}
(1 = 0)
    {%- endif -%}
{%- endmacro %}

{#- The macro `<adapter>__aggregation_<name><suffix>` or `default__aggregation_<name><suffix>`
    (through an alias of adapter.dispatch: dbt's parser wants literal names in its calls). -#}
{% macro aggregation_macro(name, suffix='') -%}
    {%- set dispatch = adapter.dispatch -%}
    {{ return(dispatch('aggregation_' ~ name ~ suffix, 'tally')) }}
{%- endmacro %}

{#- The raw units of every registered aggregation at the period grain: `days` and `ids` are
    relations of int_usage_by_period (the daily meters and unique ids each period sees, with
    aggregation_type); each aggregation reads only its own rows. -#}
{% macro aggregate_periods(days, ids) -%}
    {%- for name in tally.aggregations() %}
    {% if not loop.first %}union all{% endif %}
    select external_subscription_id, period_index, charge_id, filter_index, group_key,
        {{ tally.to_num('units') }} as units
    from ({{ tally.aggregation_macro(name)(
        "(select * from " ~ days ~ " where aggregation_type = '" ~ name ~ "')",
        "(select * from " ~ ids ~ " where aggregation_type = '" ~ name ~ "')") }}) as {{ name }}
    {%- endfor %}
{%- endmacro %}

{#- Progressive billing: the running units (after and before each event; ordinal and carried
    counts) of the running aggregations, for the events of `events` that are not screened. -#}
{% macro aggregate_running(events, bucket, event_order, identity) -%}
    {%- for name in tally.aggregations('running') %}
    {% if not loop.first %}union all{% endif %}
    select {{ identity }}, ordinal, carried, units_after, units_before
    from ({{ tally.aggregation_macro(name, '_running')(
        "(select * from " ~ events ~ " where aggregation_type = '" ~ name ~ "' and not is_screened)",
        bucket, event_order) }}) as {{ name }}
    {%- endfor %}
{%- endmacro %}

{#- Progressive billing: a screened state's units from its bucket's running count, sum and max
    (SQL expressions), by the state's aggregation_type. -#}
{% macro screened_units(count, total, highest) -%}
case aggregation_type
    {%- for name in tally.aggregations('screened') %}
            when '{{ name }}' then {{ tally.to_num(tally.aggregation_macro(name, '_units')(count, total, highest)) }}
    {%- endfor %}
        end
{%- endmacro %}

{#- SQL: is the text `txt` a value the aggregation in `agg_col` can meter? Lago's number, with at
    most the entry's `digits` (default 12) before the point. Quantities are decimal(38, 10) and
    the exact division (macros/cross_db/numbers.sql divide) scales them by 10^22 in a hugeint, so
    a period's meter must stay under about 10^16: a 40-digit value failed its cast, two 28-digit
    ones the daily sum, 2 × 10^18 units the fee's division, a 15-digit level times a day's
    seconds the weighted sum, and each stopped the whole build. Past the bound a value is
    non_numeric_value. -#}
{% macro numeric_in_range(agg_col, txt) -%}
(case {{ agg_col }}
    {%- for name, entry in var('aggregations').items() if entry.get('field') == 'number' %}
    when '{{ name }}' then {{ tally.is_numeric_text(txt, entry.get('digits', 12)) }}
    {%- endfor %}
    else false end)
{%- endmacro %}

{#- Prorated charges: the prorated steps of every aggregation whose entry has `prorated`
    (int_prorated_steps), each from its own rows of `days` and `ids`. -#}
{% macro aggregate_prorated(days, ids) -%}
    {%- for name in tally.aggregations('prorated') %}
    {% if not loop.first %}union all{% endif %}
    select external_subscription_id, period_index, charge_id, filter_index, group_key,
        step_date, step_at, step_file, step_line, {{ tally.to_num('full_units') }} as full_units,
        cast(active_days as bigint) as active_days
    from ({{ tally.aggregation_macro(name, '_prorated')(
        "(select * from " ~ days ~ " where aggregation_type = '" ~ name ~ "')",
        "(select * from " ~ ids ~ " where aggregation_type = '" ~ name ~ "')") }}) as {{ name }}
    {%- endfor %}
{%- endmacro %}

{#- Pay-in-advance charges on recurring metrics (int_instant_fees): what each period opens with,
    as rows of the running form (the events' columns), from `days` and `ids`
    (the daily meters and unique ids before each period, with period_index and
    aggregation_type) of every aggregation whose registry entry has `carried`. -#}
{% macro aggregate_carried(days, ids) -%}
    {%- for name in tally.aggregations('carried') %}
    {% if not loop.first %}union all{% endif %}
    select external_subscription_id, period_index, charge_id, filter_index, group_key, event_at, usage_date,
        source_file, cast(line_number as bigint) as line_number, file_checksum,
        {{ tally.to_num('event_value') }} as event_value, field_value_text, is_remove
    from ({{ tally.aggregation_macro(name, '_carried')(
        "(select * from " ~ days ~ " where aggregation_type = '" ~ name ~ "')",
        "(select * from " ~ ids ~ " where aggregation_type = '" ~ name ~ "')") }}) as {{ name }}
    {%- endfor %}
{%- endmacro %}
