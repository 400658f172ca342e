{#- The run's billing window [billing_from, billing_to): periods whose last day falls in it are
    invoiced. It reaches dbt as a one-row table (raw.billing_window, written by the run just
    before `dbt build`), not as --vars, so that a new window never invalidates dbt's partial
    parsing. A bare `dbt build` bills everything: the table starts as [2000-01-01, 2100-01-01). -#}
{% macro billing_from() -%}
(select billing_from from {{ source('run', 'billing_window') }})
{%- endmacro %}

{% macro billing_to() -%}
(select billing_to from {{ source('run', 'billing_window') }})
{%- endmacro %}
