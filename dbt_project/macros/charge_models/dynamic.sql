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


{#- dynamic, running form (progressive billing): after each event of a bucket, Σ of the
    precise_total_amount_cents of its events so far in the period ÷ subunits, 0 while its units
    are 0; and the same at the state before it. The states' events are found back in
    int_charge_events by file, line and charge (no carried events: the metric is not recurring);
    the currency is the period's (CTE pb_periods of progressive_inputs, in scope). -#}
{% macro default__charge_dynamic_running(states, buckets, charges, bucket, carried) -%}
with dynamic_states as (
    select
        s.period_key, s.charge_key, s.filter_index, s.group_key, s.ordinal, s.is_default_start, s.units,
        currencies.minor_unit,
        coalesce(sum(sent.precise_total_amount_cents) over (
            partition by s.period_key, s.charge_key, s.filter_index, s.group_key, s.is_default_start
            order by s.ordinal
            rows between unbounded preceding and current row
        ), 0) as amount_cents
    from {{ states }} as s
    -- the period's currency: pb_periods, the progressive inputs' periods (macros/progressive_billing.sql)
    inner join pb_periods as periods
        on s.period_key = periods.period_key
    inner join {{ ref('currencies') }} as currencies
        on periods.currency = currencies.currency
    left join {{ ref('int_charge_events') }} as sent
        on s.source_file = sent.source_file
        and s.file_checksum = sent.file_checksum
        and s.line_number = sent.line_number
        and s.charge_id = sent.charge_id
    where s.charge_model = 'dynamic'
),

priced as (
    select
        period_key, charge_key, filter_index, group_key, ordinal, is_default_start,
        case when units = 0 then cast(0 as decimal(38, 19))
            else {{ tally.minor_to_major('amount_cents', 'minor_unit') }} end as amount
    from dynamic_states
)

select
    period_key, charge_key, filter_index, group_key, ordinal, is_default_start,
    case when amount > 0 then amount else cast(0 as decimal(38, 19)) end as precise_amount,
    lag(case when amount > 0 then amount else cast(0 as decimal(38, 19)) end) over (
        partition by period_key, charge_key, filter_index, group_key, is_default_start order by ordinal
    ) as previous_precise_amount
from priced
{%- endmacro %}
