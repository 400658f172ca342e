{#- One fee per period, charge, price bucket and pricing group of the periods `periods_sql`
    selects, from their meters `usage` and tier amounts `fee_tiers`: one body for the billed
    periods (int_charge_fees) and the open ones (int_current_charge_fees). `in_advance_too`:
    price pay-in-advance charges too (current usage shows them, as Lago's; an invoice bills them
    per event, int_instant_fees). -#}
{% macro charge_fees(usage, periods_sql, fee_tiers, in_advance_too=false) -%}
with usage as (
    select * from {{ usage }}
    {%- if not in_advance_too %}
    -- pay-in-advance charges are billed per event (int_instant_fees)
    where charge_id not in (
        select charge_id from {{ ref('stg_charges') }}
        where pay_in_advance
    )
    {%- endif %}
),

buckets as (
    select * from {{ ref('stg_charge_buckets') }}
),

charges as (
    select * from {{ ref('stg_charges') }}
),

currencies as (
    select * from {{ ref('currencies') }}
),

periods as (
    {{ periods_sql }}
),

-- each event of the charge models that price event by event, once, in the billed period it
-- falls in (a percentage on a recurring metric reads earlier periods' events too)
period_events as (
    select
        charge_events.*,
        periods.period_index,
        coalesce(charge_events.event_value, 1) as value
    from {{ ref('int_charge_events') }} as charge_events
    inner join periods
        on charge_events.external_subscription_id = periods.external_subscription_id
        and charge_events.event_at >= periods.from_at
        and charge_events.event_at < periods.to_at
    where {{ tally.is_priced_by('charge_events.charge_model', 'events') }}
),

tiered as (
    select external_subscription_id, period_index, charge_id, filter_index, group_key, sum(amount) as amount
    from {{ fee_tiers }}
    group by 1, 2, 3, 4, 5
),

-- every registered charge model (macros/charge_models/_registry.sql): the tier-priced ones
-- through int_fee_tiers, which keeps their tiers
amounts as (
    {{ tally.price_fees(['units', 'events'], 'usage', 'buckets', events='period_events') }}
    union all
    select * from tiered
),

final as (
    select
        usage.external_subscription_id,
        usage.period_index,
        usage.charge_id,
        usage.filter_index,
        usage.group_key,
        usage.external_customer_id,
        usage.currency,
        usage.billable_metric_code,
        usage.charge_model,
        coalesce(buckets.invoice_display_name, charges.invoice_display_name, usage.billable_metric_code)
            as display_name,
        usage.units,
        -- the unprorated units (Lago's full_units_number): the invoice line shows both
        usage.full_units,
        usage.events_count,
        {{ tally.to_num('case when amounts.amount > 0 then amounts.amount else 0 end') }} as precise_amount,
        {{ tally.round_money('case when amounts.amount > 0 then amounts.amount else 0 end', 'currencies.minor_unit') }}
            as amount
    from usage
    left join amounts
        on {{ tally.grain_join('usage', 'amounts') }}
    inner join buckets
        on usage.charge_id = buckets.charge_id
        and usage.filter_index = buckets.filter_index
    inner join charges
        on usage.charge_id = charges.charge_id
    inner join currencies
        on usage.currency = currencies.currency
)

select * from final
{%- endmacro %}
