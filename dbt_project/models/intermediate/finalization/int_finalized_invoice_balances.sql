-- The invoices frozen by `tally finalize` (not adjustments), with the credit notes they used:
-- the balances models spend those as they are. Read from finalized.invoices directly, not
-- through int_finalized_invoices, whose empty form is shaped after int_invoices_rated, which
-- the balances feed.
{%- set relation = adapter.get_relation(database=target.database, schema=tally.schema_prefix() ~ 'finalized', identifier='invoices')
    if execute else none %}
{% if relation is not none %}
select
    invoice_id,
    external_customer_id,
    currency,
    issuing_date,
    cast(credit_notes_amount as {{ tally.money_type() }}) as credit_notes_amount
from {{ relation }}
where invoice_type <> 'adjustment'
{% else %}
select
    cast(null as {{ dbt.type_string() }}) as invoice_id,
    cast(null as {{ dbt.type_string() }}) as external_customer_id,
    cast(null as {{ dbt.type_string() }}) as currency,
    cast(null as date) as issuing_date,
    cast(null as {{ tally.money_type() }}) as credit_notes_amount
where 1 = 0
{% endif %}
