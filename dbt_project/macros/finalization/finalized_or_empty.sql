{#- The frozen copy of finalized invoices lives in the `finalized` schema, written by
    `tally finalize` (orchestration/finalize.py), not by dbt. Before the first finalization it
    does not exist: read the rated model's shape with no rows instead, so the models and their
    unit tests work on any warehouse. `like` is always ref()'d, which keeps the DAG right. -#}
{#- A column added to `columns` after a warehouse froze its first rows (full_units on invoice
    lines) is not in its table: `tally finalize` adds it before it freezes more rows
    (orchestration/finalize.py add_new_columns), and until then it reads null; the model says what
    a frozen row without the value shows. -#}
{% macro finalized_or_empty(identifier, like, columns) %}
    {%- set relation = adapter.get_relation(database=target.database, schema=tally.schema_prefix() ~ 'finalized', identifier=identifier)
        if execute else none -%}
    {%- if relation is not none -%}
        {%- set present = tally.column_names(relation) %}
        select
        {%- for name in columns %}
            {{ name if name in present else 'null as ' ~ name }}{{ ',' if not loop.last }}
        {%- endfor %}
        from {{ relation }}
    {%- else -%}
        select {{ columns | join(', ') }} from {{ like }} where 1 = 0
    {%- endif -%}
{% endmacro %}

{#- The published columns of billing.invoices, invoice_lines and fee_tiers (SPEC §4 plus the
    documented additions), in order: rated, frozen and adjustment rows are unioned by them. -#}
{% macro invoice_columns() %}
    {{ return(['invoice_id', 'external_customer_id', 'external_subscription_id', 'invoice_type', 'period_start',
               'period_end', 'issuing_date', 'currency', 'fees_amount', 'coupons_amount',
               'sub_total_excluding_taxes', 'taxes_amount', 'sub_total_including_taxes',
               'progressive_billing_credit_amount', 'credit_notes_amount', 'prepaid_credit_amount', 'total_amount',
               'status', 'adjusts_invoice_id', 'adjustment_reason']) }}
{% endmacro %}

{% macro invoice_line_columns() %}
    {{ return(['invoice_id', 'line_id', 'fee_type', 'charge_id', 'billable_metric_code', 'units', 'events_count',
               'unit_amount', 'amount', 'taxes_amount', 'currency', 'full_units']) }}
{% endmacro %}

{% macro fee_tier_columns() %}
    {{ return(['invoice_id', 'line_id', 'tier_index', 'from_value', 'to_value', 'units', 'per_unit_amount', 'rate',
               'flat_amount', 'amount', 'currency']) }}
{% endmacro %}

{#- The rows (lines or tiers) of the invoices fct_invoices publishes with `status`: rated rows
    for draft invoices, frozen rows for finalized ones, never both for one invoice. -#}
{% macro rows_of_published_invoices(relation, status) %}
    select rows_.*
    from {{ relation }} as rows_
    inner join {{ ref('fct_invoices') }} as invoices
        on rows_.invoice_id = invoices.invoice_id
    where invoices.status = '{{ status }}'
{% endmacro %}

{#- A table of the `finalized` schema that `tally finalize` writes (not dbt), as `columns`
    [(name, type), ...]; before it exists, the same columns with no rows. -#}
{% macro finalized_table(identifier, columns) %}
    {%- set relation = adapter.get_relation(database=target.database, schema=tally.schema_prefix() ~ 'finalized', identifier=identifier)
        if execute else none -%}
    {%- set present = tally.column_names(relation) if relation is not none else [] %}
    select
    {%- for name, type in columns %}
        {#- a column added after the table was first written (finalized_or_empty) reads null #}
        cast({{ name if name in present else 'null' }} as {{ type }}) as {{ name }}{{ ',' if not loop.last }}
    {%- endfor %}
    {% if relation is not none -%}
    from {{ relation }}
    {%- else -%}
    where 1 = 0
    {%- endif %}
{% endmacro %}

{#- The suffix of an adjustment's ids (invoice, line, credit note) in its round: `_adj` for the
    first, `_adj2`, `_adj3`... for those after a round was frozen by a later month's close. -#}
{% macro adjustment_suffix(round_column) -%}
'_adj' || case when {{ round_column }} > 1 then cast({{ round_column }} as {{ dbt.type_string() }}) else '' end
{%- endmacro %}

{#- The lower-case column names of `relation`. -#}
{% macro column_names(relation) %}
    {%- set names = [] -%}
    {%- for column in adapter.get_columns_in_relation(relation) -%}
        {%- do names.append(column.name | lower) -%}
    {%- endfor -%}
    {{ return(names) }}
{% endmacro %}
