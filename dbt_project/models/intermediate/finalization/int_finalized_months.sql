-- Billing months closed by `tally finalize` (finalized.periods); none before the first.
{%- set periods = adapter.get_relation(database=target.database, schema=tally.schema_prefix() ~ 'finalized', identifier='periods')
    if execute else none %}
{% if periods is not none %}
select cast(billing_month as date) as billing_month, finalized_on from {{ periods }}
{% else %}
select cast(null as date) as billing_month, cast(null as date) as finalized_on
where 1 = 0
{% endif %}
