-- Fixed charges (Lago fees/fixed_charge_service.rb): every period of a subscription bills each
-- fixed charge of its plan, without events, also during a trial (Lago's invoices/
-- calculate_fees_service.rb checks the trial for the subscription fee only), priced by the
-- charge model registry (standard, graduated, volume) and rounded once.
--   units        the plan's units from the subscription's start, then each override of
--                fixed_charge_units.csv from its local day (one dated on or before the start
--                replaces the plan's); in arrears those of the period's last day, in advance
--                those of its first
--   prorated     in arrears, each level weighs the days it holds in the period over the full
--                period's days (fixed_charge_events/aggregations/prorated_aggregation_service.rb:
--                from its day, or the period's first, to the day before the next change, or the
--                period's last); in advance, the units × the period's days / full days
--   pricing      the model prices the (prorated) units as any units: graduated and volume pick
--                their ranges by them (Lago's spec fees/fixed_charge_service_spec.rb)
--   invoice      in arrears the invoice closing the period; in advance the one opening it: the
--                previous period's closing invoice, or for the first period an opening
--                invoice on the start day (`_open`), as the plan's in-advance fee
--   unit change  in advance, units set from a day after the period's first are billed at once
--                on an invoice of their own (invoice_kind `unit_change`, `changed_on` that day;
--                Lago fees/build_pay_in_advance_fixed_charge_service.rb): the units above the
--                most already billed in the period (the opening units, raised by each earlier
--                increase), nothing back for a decrease (a 0.00 fee); the model prices the delta
--                alone, from 0, prorated by the days left (change day to period end) / full days
with periods as (
    select * from {{ ref('int_billing_periods') }}
),

subscriptions as (
    select * from {{ ref('stg_subscriptions') }}
),

fixed_charges as (
    select * from {{ ref('stg_fixed_charges') }}
),

currencies as (
    select * from {{ ref('currencies') }}
),

changes as (
    select
        subscriptions.external_subscription_id,
        fixed_charges.fixed_charge_id,
        subscriptions.started_on as effective_on,
        fixed_charges.units,
        0 as source_rank,
        cast('1900-01-01' as date) as written_on
    from subscriptions
    inner join fixed_charges
        on subscriptions.plan_code = fixed_charges.plan_code
    union all
    -- units name the external_id; after a plan change (decision 34), the segment on the fixed
    -- charge's plan takes them
    select
        subscriptions.external_subscription_id,
        overrides.fixed_charge_id,
        case when overrides.effective_on < subscriptions.started_on then subscriptions.started_on
            else overrides.effective_on end,
        overrides.units,
        1,
        overrides.effective_on
    from {{ ref('stg_fixed_charge_units') }} as overrides
    inner join subscriptions
        on overrides.external_subscription_id = subscriptions.public_subscription_id
    inner join fixed_charges
        on overrides.fixed_charge_id = fixed_charges.fixed_charge_id
        and subscriptions.plan_code = fixed_charges.plan_code
),

-- one level per day a value starts: an override over the plan's units, the latest dated wins
ranked as (
    select
        *,
        row_number() over (
            partition by external_subscription_id, fixed_charge_id, effective_on
            order by source_rank desc, written_on desc
        ) as day_rank
    from changes
),

levels as (
    select
        external_subscription_id,
        fixed_charge_id,
        effective_on,
        units,
        lead(effective_on) over (
            partition by external_subscription_id, fixed_charge_id order by effective_on
        ) as next_on
    from ranked
    where day_rank = 1
),

charged as (
    select
        periods.external_subscription_id,
        periods.external_customer_id,
        periods.currency,
        periods.period_index,
        periods.period_start,
        periods.period_end,
        periods.full_period_days,
        {{ dbt.datediff('periods.period_start', 'periods.period_end', 'day') }} + 1 as period_days,
        fixed_charges.fixed_charge_id,
        fixed_charges.charge_model,
        fixed_charges.pay_in_advance,
        fixed_charges.prorated,
        fixed_charges.display_name,
        case when fixed_charges.pay_in_advance then periods.period_start else periods.period_end end as priced_on
    from periods
    inner join fixed_charges
        on periods.plan_code = fixed_charges.plan_code
),

-- the units on the day the fee is priced
full_units as (
    select
        charged.*,
        levels.units as full_units
    from charged
    inner join levels
        on charged.external_subscription_id = levels.external_subscription_id
        and charged.fixed_charge_id = levels.fixed_charge_id
        and charged.priced_on >= levels.effective_on
        and (levels.next_on is null or charged.priced_on < levels.next_on)
),

-- in arrears, prorated: Σ units × days held in the period, over the full period's days
weighted as (
    select
        charged.external_subscription_id,
        charged.period_index,
        charged.fixed_charge_id,
        sum(levels.units * (
            {{ dbt.datediff(
                'case when levels.effective_on > charged.period_start then levels.effective_on else charged.period_start end',
                'case when levels.next_on is null or levels.next_on > charged.period_end then charged.period_end '
                ~ 'else cast(' ~ dbt.dateadd('day', -1, 'levels.next_on') ~ ' as date) end', 'day') }} + 1
        )) as unit_days
    from charged
    inner join levels
        on charged.external_subscription_id = levels.external_subscription_id
        and charged.fixed_charge_id = levels.fixed_charge_id
        and charged.period_end >= levels.effective_on
        and (levels.next_on is null or charged.period_start < levels.next_on)
    where charged.prorated and not charged.pay_in_advance
    group by 1, 2, 3
),

priced_units as (
    select
        full_units.*,
        {{ tally.to_num("""case
            when not full_units.prorated then full_units.full_units
            when full_units.pay_in_advance then """ ~ tally.prorate('full_units.full_units', 'full_units.period_days',
                'full_units.full_period_days') ~ """
            else """ ~ tally.divide('weighted.unit_days', 'full_units.full_period_days') ~ """
        end""") }} as units
    from full_units
    left join weighted
        on full_units.external_subscription_id = weighted.external_subscription_id
        and full_units.period_index = weighted.period_index
        and full_units.fixed_charge_id = weighted.fixed_charge_id
),

-- in advance, each level starting after the period's first day is a unit change inside it; a
-- level repeating the one before is none (Lago emits no event for a repeat:
-- spec/scenarios/fixed_charges/no_op_units_update_emits_no_event_spec.rb)
period_changes as (
    select
        full_units.external_subscription_id,
        full_units.external_customer_id,
        full_units.currency,
        full_units.period_index,
        full_units.period_end,
        full_units.full_period_days,
        full_units.fixed_charge_id,
        full_units.charge_model,
        full_units.prorated,
        full_units.display_name,
        full_units.full_units as opening_units,
        levels.effective_on as changed_on,
        levels.units as new_units,
        coalesce(lag(levels.units) over (
            partition by full_units.external_subscription_id, full_units.fixed_charge_id, full_units.period_index
            order by levels.effective_on
        ), full_units.full_units) as units_before,
        -- the highest units of the earlier changes in the period (Lago sums the units of the
        -- period's fees: the opening fee's, each increase's delta, 0 for a decrease)
        max(levels.units) over (
            partition by full_units.external_subscription_id, full_units.fixed_charge_id, full_units.period_index
            order by levels.effective_on rows between unbounded preceding and 1 preceding
        ) as earlier_highest
    from full_units
    inner join levels
        on full_units.external_subscription_id = levels.external_subscription_id
        and full_units.fixed_charge_id = levels.fixed_charge_id
        and full_units.period_start < levels.effective_on
        and full_units.period_end >= levels.effective_on
    where full_units.pay_in_advance
),

paid as (
    select
        *,
        case when earlier_highest > opening_units then earlier_highest else opening_units end as paid_units
    from period_changes
    where new_units <> units_before
),

-- the delta Lago bills: new units − units already paid, when positive; prorated, the model
-- prices delta × days left / full days (its proration_coefficient, applied to the units)
change_units as (
    select
        *,
        case when new_units > paid_units then new_units - paid_units else 0 end as delta_units,
        {{ dbt.datediff('changed_on', 'period_end', 'day') }} + 1 as days_left,
        {{ tally.date_key('changed_on') }} as change_key
    from paid
),

priced_changes as (
    select
        *,
        {{ tally.to_num("""case when prorated then """ ~ tally.prorate('delta_units', 'days_left', 'full_period_days')
            ~ """ else delta_units end""") }} as units
    from change_units
),

-- the charge model registry's relations, at the fee grain (one bucket, no filters; the group
-- key tells a unit change's fee, priced alone, from the period's)
usage as (
    select
        external_subscription_id,
        period_index,
        fixed_charge_id as charge_id,
        0 as filter_index,
        '' as group_key,
        charge_model,
        units,
        full_units
    from priced_units
    union all
    -- a decrease bills nothing, without pricing 0 units (a graduated first tier's flat)
    select
        external_subscription_id,
        period_index,
        fixed_charge_id,
        0,
        change_key,
        charge_model,
        units,
        delta_units
    from priced_changes
    where delta_units > 0
),

tiers as (
    {{ tally.fixed_charge_price_tiers() }}
),

buckets as (
    {{ tally.fixed_charge_price_buckets() }}
),

amounts as (
    select external_subscription_id, period_index, charge_id, group_key, sum(amount) as amount
    from (
        {{ tally.price_fees('units', 'usage', 'buckets') }}
        union all
        select external_subscription_id, period_index, charge_id, filter_index, group_key, amount
        from ({{ tally.price_tiers('usage', 'buckets', 'tiers') }}) as tiered
    ) as priced
    group by 1, 2, 3, 4
),

fees as (
    select
        external_subscription_id,
        external_customer_id,
        currency,
        fixed_charge_id,
        charge_model,
        display_name,
        pay_in_advance,
        prorated,
        period_index,
        case
            when not pay_in_advance then period_index
            when period_index = 0 then 0
            else period_index - 1
        end as invoice_period_index,
        case when pay_in_advance and period_index = 0 then 'opening' else 'closing' end as invoice_kind,
        units,
        full_units,
        '' as group_key,
        cast(null as date) as changed_on
    from priced_units
    union all
    -- a unit change: on its own invoice, in the period it changes
    select
        external_subscription_id,
        external_customer_id,
        currency,
        fixed_charge_id,
        charge_model,
        display_name,
        true,
        prorated,
        period_index,
        period_index,
        'unit_change',
        units,
        delta_units,
        change_key,
        changed_on
    from priced_changes
),

final as (
    select
        fees.external_subscription_id,
        fees.external_customer_id,
        fees.currency,
        fees.fixed_charge_id,
        fees.charge_model,
        fees.display_name,
        fees.pay_in_advance,
        fees.prorated,
        fees.period_index as service_period_index,
        fees.invoice_period_index,
        fees.invoice_kind,
        fees.units,
        {{ tally.to_num('fees.full_units') }} as full_units,
        {{ tally.to_num('case when amounts.amount > 0 then amounts.amount else 0 end') }} as precise_amount,
        {{ tally.round_money('case when amounts.amount > 0 then amounts.amount else 0 end', 'currencies.minor_unit') }}
            as amount,
        fees.changed_on
    from fees
    inner join currencies
        on fees.currency = currencies.currency
    left join amounts
        on fees.external_subscription_id = amounts.external_subscription_id
        and fees.period_index = amounts.period_index
        and fees.fixed_charge_id = amounts.charge_id
        and fees.group_key = amounts.group_key
)

select * from final
