{#- dynamic (Lago charges/charge_models/dynamic_service): the amount is sent with each event,
    `precise_total_amount_cents` (minor units, landed as a decimal), not computed from a price:
      Σ precise_total_amount_cents of the fee's events ÷ the currency's subunits per unit
    (10^minor_unit: 100 for USD, 1 for JPY, 1000 for KWD), and 0 when the fee's units are 0
    (Lago: `return 0 if total_units.zero?`). Units are the metric's as usual (sum_agg only, the
    catalog refuses any other aggregation and a recurring metric), so the fee line shows them.
    An event without the field adds nothing (SQL sum, as Lago's store). Rounding once per fee,
    by int_charge_fees.
    `events`: each event of the event-priced charges once, with the billed period it falls in. -#}
{% macro default__charge_dynamic(usage, buckets, tiers, events) -%}
select
    {{ tally.fee_grain('u') }},
    case when u.units = 0 then cast(0 as decimal(38, 19))
        else {{ tally.minor_to_major('coalesce(sent.amount_cents, 0)', 'currencies.minor_unit') }} end as amount
from {{ usage }} as u
inner join {{ ref('currencies') }} as currencies
    on u.currency = currencies.currency
left join (
    select {{ tally.fee_grain('ev') }}, sum(ev.precise_total_amount_cents) as amount_cents
    from {{ events }} as ev
    where ev.charge_model = 'dynamic'
    group by {{ tally.fee_grain('ev') }}
) as sent
    on {{ tally.grain_join('u', 'sent') }}
where u.charge_model = 'dynamic'
{%- endmacro %}


{#- dynamic, running form (progressive billing): after each state, Σ of the
    precise_total_amount_cents of its bucket's events so far in the period ÷ subunits, 0 while
    its units are 0; and the same at the state before it. The states' events are found back in
    int_charge_events by file, line and charge (no carried events: the metric is not recurring);
    the currency is the period's (CTE `periods` of int_progressive_priced_states, in scope). -#}
{% macro default__charge_dynamic_running(states, buckets, charges, bucket, carried) -%}
with dynamic_states as (
    select
        s.external_subscription_id, s.period_index, s.charge_id, s.filter_index, s.group_key, s.ordinal,
        s.is_default_start, s.units,
        currencies.minor_unit,
        coalesce(sum(sent.precise_total_amount_cents) over (
            partition by s.external_subscription_id, s.period_index, s.charge_id, s.filter_index, s.group_key,
                s.is_default_start
            order by s.ordinal
            rows between unbounded preceding and current row
        ), 0) as amount_cents
    from {{ states }} as s
    inner join periods
        on s.external_subscription_id = periods.external_subscription_id
        and s.period_index = periods.period_index
    inner join {{ ref('currencies') }} as currencies
        on periods.currency = currencies.currency
    left join {{ ref('int_charge_events') }} as sent
        on s.source_file = sent.source_file
        and s.line_number = sent.line_number
        and s.charge_id = sent.charge_id
        and coalesce(s.file_checksum, '') = coalesce(sent.file_checksum, '')
    where s.charge_model = 'dynamic'
),

priced as (
    select
        external_subscription_id, period_index, charge_id, filter_index, group_key, ordinal, is_default_start,
        case when units = 0 then cast(0 as decimal(38, 19))
            else {{ tally.minor_to_major('amount_cents', 'minor_unit') }} end as amount
    from dynamic_states
)

select
    external_subscription_id, period_index, charge_id, filter_index, group_key, ordinal, is_default_start,
    case when amount > 0 then amount else cast(0 as decimal(38, 19)) end as precise_amount,
    lag(case when amount > 0 then amount else cast(0 as decimal(38, 19)) end) over (
        partition by {{ bucket }}, is_default_start order by ordinal
    ) as previous_precise_amount
from priced
{%- endmacro %}
