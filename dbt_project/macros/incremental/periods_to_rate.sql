{#- Closed periods are state (issue 9, item 5). A per-period model (int_usage_by_period,
    the progressive models) keeps the rows of the periods it rated and, beside it, the table
    `<model>_rated_periods`: each billable period's fingerprint (its definition in
    int_billing_periods) and the rating watermark of that build (the highest load_sequence in
    the daily meters). A build then rates again only the periods to rate:

      - a period that is new or whose definition changed (fingerprint), and
      - the period that a newly rated day falls in (the first period ending on or after the
        day: an event before a subscription's first period is carried into it),

    and, per subscription, every period after the earliest of those: state carries forward
    (recurring meters, lifetime usage). Nothing before it is read again. A catalog change
    drops the models first (orchestration/rating_state.py), so prices need no fingerprint here.
    Each model keeps its own watermark: building one of them alone never hides a batch from
    the other. Usage (config of the model):

      pre_hook=tally.delete_periods_to_rate(), post_hook=tally.save_rated_periods()
    and, in its SQL, `tally.periods_to_rate()` as the filter of its periods (or
    `tally.rows_to_rate(relation)` for a per-period input). -#}

{%- macro rated_periods_relation() -%}
{{ adapter.get_relation(database=this.database, schema=this.schema, identifier=this.identifier ~ '_rated_periods') }}
{%- endmacro %}

{#- a period's definition as one string: every column but the window's publishing flag -#}
{% macro period_fingerprint(alias) -%}
{%- set columns = ['external_subscription_id', 'external_customer_id', 'plan_code', 'plan_interval',
    'billing_time', 'pay_in_advance', 'plan_amount', 'currency', 'timezone', 'started_on', 'ending_on',
    'trial_ends_on', 'period_index', 'full_period_start', 'full_period_end', 'period_start', 'period_end',
    'full_period_days', 'period_days', 'fee_days', 'from_at', 'to_at', 'billing_month', 'is_billable'] -%}
{%- set parts = [] -%}
{%- for column in columns -%}
{%- do parts.append("coalesce(cast(" ~ alias ~ "." ~ column ~ " as " ~ dbt.type_string() ~ "), '~')") -%}
{%- if not loop.last %}{% do parts.append("'|'") %}{% endif -%}
{%- endfor -%}
{{ dbt.hash(dbt.concat(parts)) }}
{%- endmacro %}

{% macro rating_high_water() -%}
(select coalesce(max(max_load_sequence), 0) from {{ ref('int_usage_daily') }})
{%- endmacro %}

{#- a query of (external_subscription_id, period_index): the billable periods to rate again -#}
{% macro periods_to_rate() -%}
{%- set rated = tally.rated_periods_relation() if execute else none -%}
select external_subscription_id, period_index
from (
    select
        periods.external_subscription_id,
        periods.period_index,
        min(case
            when rated.period_index is null or rated.fingerprint <> {{ tally.period_fingerprint('periods') }}
                then periods.period_index
        end) over (partition by periods.external_subscription_id) as first_changed,
        touched.first_touched
    from {{ ref('int_billing_periods') }} as periods
    {%- if rated %}
    left join {{ rated }} as rated
        on periods.external_subscription_id = rated.external_subscription_id
        and periods.period_index = rated.period_index
    left join (
        select days.external_subscription_id, min(first_period.period_index) as first_touched
        from (
            select external_subscription_id, usage_date
            from {{ ref('int_usage_daily') }}
            where max_load_sequence > (select coalesce(max(rated_through), 0) from {{ rated }})
            union
            select external_subscription_id, usage_date
            from {{ ref('int_unique_ids_daily') }}
            where max_load_sequence > (select coalesce(max(rated_through), 0) from {{ rated }})
        ) as days
        inner join {{ ref('int_billing_periods') }} as first_period
            on days.external_subscription_id = first_period.external_subscription_id
            and first_period.period_end >= days.usage_date
            and first_period.is_billable
        group by 1
    ) as touched
        on periods.external_subscription_id = touched.external_subscription_id
    {%- else %}
    -- no rated periods on record (a warehouse of an older version): every period is rated
    left join (select cast(null as bigint) as period_index, cast(null as {{ dbt.type_string() }}) as fingerprint) as rated
        on false
    left join (select cast(null as {{ dbt.type_string() }}) as external_subscription_id, cast(null as bigint) as first_touched) as touched
        on false
    {%- endif %}
    where periods.is_billable
) as flagged
where period_index >= first_changed or period_index >= first_touched
{%- endmacro %}

{#- a query of the rows of `relation` (a per-period relation: external_subscription_id,
    period_index) that this build rates: the periods to rate on an incremental build, every
    row otherwise. A per-period model reads its per-period inputs through it. -#}
{% macro rows_to_rate(relation) -%}
select rows_to_rate.*
from {{ relation }} as rows_to_rate
{%- if is_incremental() %}
inner join ({{ tally.periods_to_rate() }}) as to_rate
    on rows_to_rate.external_subscription_id = to_rate.external_subscription_id
    and rows_to_rate.period_index = to_rate.period_index
{%- endif %}
{%- endmacro %}

{#- pre-hook: the rows of the periods rated again, and of periods no longer billable, go -#}
{% macro delete_periods_to_rate() -%}
{%- if is_incremental() -%}
delete from {{ this }}
where not exists (
        select 1
        from {{ ref('int_billing_periods') }} as periods
        where periods.is_billable
            and periods.external_subscription_id = {{ this }}.external_subscription_id
            and periods.period_index = {{ this }}.period_index
    )
    or exists (
        select 1
        from ({{ tally.periods_to_rate() }}) as to_rate
        where to_rate.external_subscription_id = {{ this }}.external_subscription_id
            and to_rate.period_index = {{ this }}.period_index
    )
{%- endif -%}
{%- endmacro %}

{#- post-hook: what this build rated, for the next one. On Spark every build rates every
    period (macros/cross_db/incremental.sql): nothing to keep. -#}
{% macro save_rated_periods() %}{{ return(adapter.dispatch('save_rated_periods', 'tally')()) }}{% endmacro %}
{% macro spark__save_rated_periods() %}{% endmacro %}
{% macro default__save_rated_periods() -%}
create or replace table {{ this.database }}.{{ this.schema }}.{{ this.identifier }}_rated_periods as
select
    periods.external_subscription_id,
    periods.period_index,
    {{ tally.period_fingerprint('periods') }} as fingerprint,
    {{ tally.rating_high_water() }} as rated_through
from {{ ref('int_billing_periods') }} as periods
where periods.is_billable
{%- endmacro %}

{#- the billable periods a per-period model rates in this build (every one on a full build) -#}
{% macro billable_periods_to_rate() -%}
select periods.*
from {{ ref('int_billing_periods') }} as periods
{%- if is_incremental() %}
inner join ({{ tally.periods_to_rate() }}) as to_rate
    on periods.external_subscription_id = to_rate.external_subscription_id
    and periods.period_index = to_rate.period_index
{%- endif %}
where periods.is_billable
{%- endmacro %}
