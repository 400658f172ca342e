-- What each invoice frozen by `tally finalize` took from each wallet: a re-rating never moves
-- it (int_wallet_allocations spends it first, whatever the invoice now rates at).
{%- set relation = adapter.get_relation(database=target.database, schema='finalized', identifier='wallet_allocations')
    if execute else none %}
{% if relation is not none %}
select wallet_id, invoice_id, cast(amount as {{ tally.money_type() }}) as amount from {{ relation }}
{% else %}
select
    cast(null as {{ dbt.type_string() }}) as wallet_id,
    cast(null as {{ dbt.type_string() }}) as invoice_id,
    cast(null as {{ tally.money_type() }}) as amount
where 1 = 0
{% endif %}
