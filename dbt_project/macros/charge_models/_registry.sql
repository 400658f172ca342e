{#- The charge-model registry (var `charge_models`, dbt_project.yml): models loop over it, so
    that no model names a charge model; each model's SQL is its own macro,
    default__charge_<name>, reached through adapter.dispatch (a spark__ version overrides it). -#}

{#- The names of the registered charge models, in registry order; only those priced by one of
    `priced_by` (units, tiers, events) when given. -#}
{% macro charge_models(priced_by=none) -%}
    {%- set kinds = [priced_by] if priced_by is string else priced_by -%}
    {%- set names = [] -%}
    {%- for name, entry in var('charge_models').items() -%}
        {%- if kinds is none or entry['priced_by'] in kinds -%}{%- do names.append(name) -%}{%- endif -%}
    {%- endfor -%}
    {{ return(names) }}
{%- endmacro %}

{#- SQL: is `column` one of the charge models priced by `priced_by`? -#}
{% macro is_priced_by(column, priced_by) -%}
    {%- set names = tally.charge_models(priced_by) -%}
    {%- if names -%}
({{ column }} in ({% for name in names %}'{{ name }}'{% if not loop.last %}, {% endif %}{% endfor %}))
    {%- else -%}
(1 = 0)
    {%- endif -%}
{%- endmacro %}

{#- One row per fee (the fee grain and its unrounded amount) of every charge model priced by
    `priced_by`, for the fees of `usage`; tier models give one row per tier entered. -#}
{% macro price_fees(priced_by, usage, buckets, tiers=none, events=none) -%}
    {%- for name in tally.charge_models(priced_by) %}
    {% if not loop.first %}union all{% endif %}
    select external_subscription_id, period_index, charge_id, filter_index, group_key, amount
    from ({{ tally.charge_model_macro(name)(usage, buckets, tiers, events) }}) as {{ name }}
    {%- else %}
    select {{ tally.empty_fees() }}
    {%- endfor %}
{%- endmacro %}

{#- The tier rows of every tier-priced model (billing.fee_tiers); for the models whose entry
    says `prorated: form`, also their prorated form, `<name>_prorated(usage, buckets, tiers,
    steps)` over the prorated steps (int_prorated_steps). -#}
{% macro price_tiers(usage, buckets, tiers, steps=none) -%}
    {%- for name in tally.charge_models('tiers') %}
    {%- set by_steps = steps is not none and var('charge_models')[name].get('prorated') == 'form' %}
    {% if not loop.first %}union all{% endif %}
    select external_subscription_id, period_index, charge_id, filter_index, group_key,
        tier_index, from_value, to_value, per_unit_amount, flat_amount, rate, tier_units, amount
    from ({{ tally.charge_model_macro(name)(
        "(select * from " ~ usage ~ " where not coalesce(is_prorated, false))" if by_steps else usage,
        buckets, tiers, none) }}) as {{ name }}
    {%- if by_steps %}
    union all
    select external_subscription_id, period_index, charge_id, filter_index, group_key,
        tier_index, from_value, to_value, per_unit_amount, flat_amount, rate, tier_units, amount
    from ({{ tally.charge_model_macro(name ~ '_prorated')(
        "(select * from " ~ usage ~ " where is_prorated)", buckets, tiers, steps) }}) as {{ name }}_prorated
    {%- endif %}
    {%- endfor %}
{%- endmacro %}

{#- For progressive billing: the amount of each event-priced bucket state, and the state before
    it, from each event-priced model's running form; `carried`: the events before the period
    that recurring buckets carry (no states, but read by running totals). -#}
{% macro price_running(states, buckets, charges, bucket, carried) -%}
    {%- for name in tally.charge_models('events') %}
    {% if not loop.first %}union all{% endif %}
    select * from ({{ tally.charge_model_macro(name ~ '_running')(states, buckets, charges, bucket, carried) }}) as {{ name }}
    {%- endfor %}
{%- endmacro %}

{#- The macro of a registered model, `<adapter>__charge_<name>` or `default__charge_<name>`.
    dbt's parser wants a literal name in `adapter.dispatch(...)` calls; the registry's names
    are data, so the call goes through a local alias of the same function. -#}
{% macro charge_model_macro(name) -%}
    {%- set dispatch = adapter.dispatch -%}
    {{ return(dispatch('charge_' ~ name, 'tally')) }}
{%- endmacro %}

{% macro empty_fees() -%}
cast(null as {{ dbt.type_string() }}) as external_subscription_id, cast(null as bigint) as period_index,
    cast(null as {{ dbt.type_string() }}) as charge_id, cast(null as integer) as filter_index,
    cast(null as {{ dbt.type_string() }}) as group_key, {{ tally.to_num('null') }} as amount
where 1 = 0
{%- endmacro %}

{#- SQL: is `column` a charge model whose amount never falls as units grow (registry
    `monotone: true`)? -#}
{% macro is_monotone(column) -%}
    {%- set names = [] -%}
    {%- for name, entry in var('charge_models').items() -%}
        {%- if entry.get('monotone') and entry['priced_by'] != 'events' -%}{%- do names.append(name) -%}{%- endif -%}
    {%- endfor -%}
    {%- if names -%}
({{ column }} in ({% for name in names %}'{{ name }}'{% if not loop.last %}, {% endif %}{% endfor %}))
    {%- else -%}
(1 = 0)
    {%- endif -%}
{%- endmacro %}
