{#- The external_id a subscription is published under. After a plan change (several rows of one
    external_id in subscriptions.csv, decision 34) each segment is rated under its own key,
    `<external_id>@<start yyyymmdd>` for a later one; the published tables show the external_id
    the customer's events and the catalog name. A key that is no segment's (a frozen invoice
    already published) stays as it is. -#}
{% macro public_subscription_id(column) -%}
{#- the derived table exposes no external_subscription_id: an unqualified `column` binds outside -#}
coalesce(
    (select max(segments.public_subscription_id)
     from (select external_subscription_id as segment_key, public_subscription_id
           from {{ ref('stg_subscriptions') }}) as segments
     where segments.segment_key = {{ column }}),
    {{ column }})
{%- endmacro %}

{#- `columns` of `source`, joined by commas, external_subscription_id published as above. -#}
{% macro columns_with_public_subscription_id(source, columns) -%}
    {%- set out = [] %}
    {%- for name in columns %}
        {%- do out.append(tally.public_subscription_id(source ~ '.' ~ name) ~ ' as ' ~ name
            if name == 'external_subscription_id' else source ~ '.' ~ name) %}
    {%- endfor %}
    {{- out | join(', ') -}}
{%- endmacro %}
