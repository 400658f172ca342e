{#- Pricing bucket states (int_progressive_priced_states: the screen's states;
    int_progressive_replayed_states: the replayed days' states). -#}

{#- CTEs `price_tiers`, `price_points`, `price_usage`, `prices` (no leading `with`): every distinct (charge,
    filter, units) of `unit_states`, after a state or before it, priced once by the
    charge-model macros, which work at the fee grain: here one "fee" per units value, its key
    in the period_index column (and CTE `price_tiers`: the ranges, as int_charge_fees reads
    them). The model defines CTE `buckets` (stg_charge_buckets). Models priced by events are
    left to their running form (progressive_priced_states). -#}
{% macro progressive_prices(unit_states) -%}
price_tiers as (
    select
        *,
        lag(to_value) over (partition by charge_id, filter_index order by tier_index) as previous_to_value
    from {{ ref('stg_charge_tiers') }}
),

price_points as (
    select charge_id, filter_index, charge_model, units,
        row_number() over (order by charge_id, filter_index, units) as price_key
    from (
        select charge_id, filter_index, charge_model, units
        from {{ unit_states }}
        where not {{ tally.is_priced_by('charge_model', 'events') }}
        union
        select charge_id, filter_index, charge_model, units_before
        from {{ unit_states }}
        where not {{ tally.is_priced_by('charge_model', 'events') }} and units_before is not null
    ) as points
),

price_usage as (
    select
        '' as external_subscription_id,
        price_key as period_index,
        charge_id,
        filter_index,
        '' as group_key,
        charge_model,
        units,
        cast(0 as bigint) as events_count
    from price_points
),

prices as (
    select
        points.charge_id,
        points.filter_index,
        points.units,
        {{ tally.to_num('case when amounts.amount > 0 then amounts.amount else 0 end') }} as precise_amount
    from price_points as points
    left join (
        select period_index as price_key, sum(amount) as amount
        from ({{ tally.price_fees(['units', 'tiers'], 'price_usage', 'buckets', 'price_tiers') }}) as priced
        group by 1
    ) as amounts
        on points.price_key = amounts.price_key
)
{%- endmacro %}

{#- A select of the states of `unit_states` with their amounts: precise_amount (negatives 0),
    amount (rounded to the currency's minor unit) and previous_amount (the rounded amount at
    the bucket's previous state; 0 at its first). Units-priced states read CTE `prices`
    (progressive_prices); event-priced ones the relation `running` (price_running: amount per
    state ordinal), none when `unit_states` has none. `periods` gives each period's currency. -#}
{% macro progressive_priced_states(unit_states, running=none) -%}
{%- set running_amount = 'running.precise_amount' if running else 'null' -%}
{%- set running_previous = 'running.previous_precise_amount' if running else 'null' -%}
select
    s.external_subscription_id,
    s.period_index,
    s.charge_id,
    s.filter_index,
    s.group_key,
    s.ordinal,
    s.is_start,
    s.is_default_start,
    s.is_day_state,
    s.event_day,
    s.event_at,
    s.source_file,
    s.line_number,
    s.file_checksum,
    s.units,
    s.events_count,
    coalesce(after_price.precise_amount, {{ running_amount }}, {{ tally.to_num('0') }}) as precise_amount,
    {{ tally.round_money('coalesce(after_price.precise_amount, ' ~ running_amount ~ ', 0)', 'currencies.minor_unit') }}
        as amount,
    {{ tally.round_money('coalesce(before_price.precise_amount, ' ~ running_previous ~ ', 0)', 'currencies.minor_unit') }}
        as previous_amount
from {{ unit_states }} as s
inner join periods
    on s.external_subscription_id = periods.external_subscription_id
    and s.period_index = periods.period_index
inner join {{ ref('currencies') }} as currencies
    on periods.currency = currencies.currency
left join prices as after_price
    on not {{ tally.is_priced_by('s.charge_model', 'events') }}
    and s.charge_id = after_price.charge_id
    and s.filter_index = after_price.filter_index
    and s.units = after_price.units
left join prices as before_price
    on not {{ tally.is_priced_by('s.charge_model', 'events') }}
    and s.charge_id = before_price.charge_id
    and s.filter_index = before_price.filter_index
    and s.units_before = before_price.units
{%- if running %}
left join {{ running }} as running
    on {{ tally.is_priced_by('s.charge_model', 'events') }}
    and s.external_subscription_id = running.external_subscription_id
    and s.period_index = running.period_index
    and s.charge_id = running.charge_id
    and s.filter_index = running.filter_index
    and s.group_key = running.group_key
    and s.ordinal = running.ordinal
{%- endif %}
{%- endmacro %}
