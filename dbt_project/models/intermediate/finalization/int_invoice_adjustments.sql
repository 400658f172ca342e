-- Re-rating a finalized month: each frozen invoice against the same invoice as this run rates
-- it (late events, a catalog fix). The frozen invoice is never touched; a difference becomes an
-- adjustment: an extra `adjustment` invoice when the customer was under-billed, a credit note
-- when over-billed. Amounts are differences of rounded amounts, so they are exact in the
-- currency's minor unit. An invoice only one side has (a new subscription, a removed one)
-- counts as zero on the other side. Prepaid credits and credit notes are not re-applied:
-- what is compared is what the customer owed, sub_total_including_taxes.
-- Adjustments are drafts until the next month's close (`tally finalize` of a later month)
-- freezes them (int_finalized_adjustments); the difference is then taken against the frozen
-- invoice plus the frozen adjustments, as a new round (`_adj2`, ...) dated that close.
with months as (
    -- only months this run rates in full: a run of an earlier month must not see a later
    -- finalized month's invoices as vanished
    select * from {{ ref('int_finalized_months') }}
    where billing_month < {{ tally.billing_to() }}
),

rated as (
    select rated.*
    from {{ ref('int_invoices_rated') }} as rated
    inner join months
        on cast({{ dbt.date_trunc('month', 'rated.period_end') }} as date) = months.billing_month
),

issued as (
    select
        invoice_id,
        count(*) as rounds,
        max(frozen_on) as last_frozen_on,
        {% for column in ['fees_amount', 'coupons_amount', 'sub_total_excluding_taxes', 'taxes_amount',
                          'sub_total_including_taxes', 'progressive_billing_credit_amount'] %}
        sum({{ column }}_delta) as {{ column }},
        {% endfor %}
        sum(events_delta) as events_count
    from {{ ref('int_finalized_adjustments') }}
    group by 1
),

-- the frozen invoice with the adjustments issued on it since
frozen as (
    select
        frozen.invoice_id,
        frozen.external_customer_id,
        frozen.external_subscription_id,
        frozen.period_start,
        frozen.period_end,
        frozen.currency,
        {% for column in ['fees_amount', 'coupons_amount', 'sub_total_excluding_taxes', 'taxes_amount',
                          'sub_total_including_taxes', 'progressive_billing_credit_amount'] %}
        frozen.{{ column }} + coalesce(issued.{{ column }}, 0) as {{ column }},
        {% endfor %}
        coalesce(issued.events_count, 0) as issued_events,
        coalesce(issued.rounds, 0) as rounds,
        issued.last_frozen_on
    from {{ ref('int_finalized_invoices') }} as frozen
    left join issued
        on frozen.invoice_id = issued.invoice_id
    where frozen.invoice_type <> 'adjustment'
),

rated_events as (
    select invoice_id, sum(events_count) as events_count
    from {{ ref('int_invoice_lines_rated') }}
    where invoice_id in (select invoice_id from rated)
    group by 1
),

frozen_events as (
    select invoice_id, sum(events_count) as events_count
    from {{ ref('int_finalized_invoice_lines') }}
    where invoice_id in (select invoice_id from frozen)
    group by 1
),

pairs as (
    select
        coalesce(rated.invoice_id, frozen.invoice_id) as invoice_id,
        coalesce(rated.external_customer_id, frozen.external_customer_id) as external_customer_id,
        coalesce(rated.external_subscription_id, frozen.external_subscription_id) as external_subscription_id,
        coalesce(rated.period_start, frozen.period_start) as period_start,
        coalesce(rated.period_end, frozen.period_end) as period_end,
        coalesce(rated.currency, frozen.currency) as currency,
        {% for column in ['fees_amount', 'coupons_amount', 'sub_total_excluding_taxes', 'taxes_amount',
                          'sub_total_including_taxes', 'progressive_billing_credit_amount'] %}
        coalesce(rated.{{ column }}, 0) - coalesce(frozen.{{ column }}, 0) as {{ column }}_delta,
        {% endfor %}
        coalesce(rated_events.events_count, 0) - coalesce(frozen_events.events_count, 0)
            - coalesce(frozen.issued_events, 0) as events_delta,
        coalesce(frozen.rounds, 0) + 1 as adjustment_round,
        frozen.last_frozen_on
    from rated
    full outer join frozen
        on rated.invoice_id = frozen.invoice_id
    left join rated_events
        on rated.invoice_id = rated_events.invoice_id
    left join frozen_events
        on frozen.invoice_id = frozen_events.invoice_id
),

final as (
    select
        pairs.*,
        case when pairs.sub_total_including_taxes_delta > 0 then 'adjustment_invoice' else 'credit_note' end
            as adjustment_kind,
        -- more or fewer billed events means usage arrived late; the same events at another
        -- amount means the catalog changed
        case when pairs.events_delta <> 0 then 'late_events' else 'catalog_change' end as reason,
        coalesce(pairs.last_frozen_on, months.finalized_on) as issuing_date
    from pairs
    inner join months
        on cast({{ dbt.date_trunc('month', 'pairs.period_end') }} as date) = months.billing_month
    where pairs.sub_total_including_taxes_delta <> 0
)

select * from final
