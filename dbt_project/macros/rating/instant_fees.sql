{#- Pay-in-advance (instant) fees (int_instant_fees, decision 23). -#}

{#- Lago percentage_service's amount (charge_models/percentage_service.rb, without a
    per-transaction min or max) when `k` events have run total `t`, `below` of the running
    totals being under free_units_per_total_aggregation; on a row with the bucket's rate,
    fixed_amount, free_events, free_total and free_events_total (the running total at the
    free_units_per_events-th event). An instant fee is this after the event minus before it. -#}
{% macro instant_percentage_amount(k, t, below) -%}
{%- set free_value -%}
case when free_events > 0 and free_events < {{ k }} then free_events_total when free_total = 0 then {{ t }}
            when {{ t }} <= free_total then {{ t }} else free_total end
{%- endset -%}
{%- set free_events = tally.percentage_free_events('free_events', below) -%}
(case when {{ t }} = 0 then {{ tally.to_num('0') }}
        else {{ tally.to_num('case when ' ~ t ~ ' < (' ~ free_value ~ ') then 0 else (' ~ t ~ ' - (' ~ free_value
            ~ ')) * rate * cast(0.01 as decimal(3, 2)) end') }}
            + case when fixed_amount = 0 or ({{ free_events }}) >= {{ k }} then 0
                else ({{ k }} - ({{ free_events }})) * fixed_amount end
    end)
{%- endmacro %}
