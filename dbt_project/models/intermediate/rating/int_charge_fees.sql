-- One fee per period, charge, price bucket and pricing group: the charge model's amount
-- (unrounded, as Lago's charge models), then rounded once, half away from zero, to the
-- currency's minor unit. A negative amount is a zero fee (Lago fees/charge_service).
-- Pay-in-advance charges are billed per event (int_instant_fees), never here.
{%- set periods %}
    select * from {{ ref('int_billing_periods') }}
    where is_billable
{%- endset %}
{{ tally.charge_fees(ref('int_usage_by_period'), periods, ref('int_fee_tiers')) }}
