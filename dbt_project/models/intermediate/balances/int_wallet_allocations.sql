-- Prepaid credits pay what is left of each invoice after taxes and credit notes (Lago
-- credits/applied_prepaid_credits_service): the customer's wallets in priority order (1
-- first), then oldest first; each wallet pays at most its balance at the moment the invoice
-- is issued, never below zero; a wallet past its expiration pays nothing more. Credit
-- purchases are themselves invoices and are not paid from wallets.
-- The catalog allows at most `max_wallets_per_customer` wallets per customer: each is one
-- step below, each step a greedy running balance (macros/balances/greedy_allocation.sql).
-- A finalized invoice takes what it took when it was frozen (int_finalized_wallet_allocations),
-- whatever it rates at now: that amount leaves its wallet at the invoice's time, before any
-- draft invoice of the same instant, and the draft invoices share what is left. (Should a draft
-- invoice older than a finalized one have taken that money first, the wallet goes below zero
-- rather than the frozen invoice changing.)
{% set max_wallets = var('max_wallets_per_customer', 10) %}
with subtotals as (
    select * from {{ ref('int_invoice_subtotals') }}
    where invoice_type in ('subscription', 'progressive_billing')
),

frozen_invoices as (
    select invoice_id, issuing_date from {{ ref('int_finalized_invoice_balances') }}
),

-- at the instant the invoice is issued as rated now (its issuing day if it is no longer rated)
frozen as (
    select
        frozen.wallet_id,
        frozen.invoice_id,
        frozen.amount,
        coalesce(subtotals.issued_at, cast(frozen_invoices.issuing_date as timestamp)) as issued_at
    from {{ ref('int_finalized_wallet_allocations') }} as frozen
    inner join frozen_invoices
        on frozen.invoice_id = frozen_invoices.invoice_id
    left join subtotals
        on frozen.invoice_id = subtotals.invoice_id
),

credit_notes as (
    select * from {{ ref('int_credit_note_allocations') }}
),

transactions as (
    select * from {{ ref('int_wallet_transactions') }}
),

wallets as (
    select
        wallet_id,
        external_customer_id,
        currency,
        expires_at,
        row_number() over (partition by external_customer_id order by priority, wallet_order) as wallet_rank
    from {{ ref('stg_wallets') }}
),

remaining_0 as (
    select
        subtotals.invoice_id,
        subtotals.external_customer_id,
        subtotals.currency,
        subtotals.issued_at,
        cast(subtotals.sub_total_including_taxes - coalesce(credit_notes.credit_notes_amount, 0)
            as {{ tally.money_type() }}) as remaining
    from subtotals
    left join credit_notes
        on subtotals.invoice_id = credit_notes.invoice_id
    where subtotals.external_customer_id in (select external_customer_id from wallets)
        and subtotals.invoice_id not in (select invoice_id from frozen_invoices)
),

{% for r in range(1, max_wallets + 1) %}
flows_{{ r }} as (
    select
        transactions.wallet_id,
        transactions.created_at as flow_at,
        0 as row_kind,
        cast(transactions.line_number as {{ dbt.type_string() }}) as row_key,
        cast(null as {{ dbt.type_string() }}) as invoice_id,
        transactions.amount as supply,
        cast(0 as {{ tally.money_type() }}) as demand
    from transactions
    inner join wallets
        on transactions.wallet_id = wallets.wallet_id
        and wallets.wallet_rank = {{ r }}
    union all
    -- a frozen invoice's take, as money leaving the wallet (ordered before the instant's demands)
    select
        frozen.wallet_id,
        frozen.issued_at,
        1,
        '',
        cast(null as {{ dbt.type_string() }}),
        cast(-frozen.amount as {{ tally.money_type() }}),
        cast(0 as {{ tally.money_type() }})
    from frozen
    inner join wallets
        on frozen.wallet_id = wallets.wallet_id
        and wallets.wallet_rank = {{ r }}
    union all
    select
        wallets.wallet_id,
        remaining_{{ r - 1 }}.issued_at,
        1,
        remaining_{{ r - 1 }}.invoice_id,
        remaining_{{ r - 1 }}.invoice_id,
        cast(0 as {{ tally.money_type() }}),
        remaining_{{ r - 1 }}.remaining
    from remaining_{{ r - 1 }}
    inner join wallets
        on remaining_{{ r - 1 }}.external_customer_id = wallets.external_customer_id
        and remaining_{{ r - 1 }}.currency = wallets.currency
        and wallets.wallet_rank = {{ r }}
    where remaining_{{ r - 1 }}.remaining > 0
        and (wallets.expires_at is null or remaining_{{ r - 1 }}.issued_at < wallets.expires_at)
),

allocated_{{ r }} as (
    select wallet_id, invoice_id, cast(used as {{ tally.money_type() }}) as amount
    from ({{ tally.greedy_allocation('flows_' ~ r, 'wallet_id', 'flow_at, row_kind, row_key') }}) as greedy
    where row_kind = 1 and invoice_id is not null and used > 0
),

remaining_{{ r }} as (
    select
        remaining_{{ r - 1 }}.invoice_id,
        remaining_{{ r - 1 }}.external_customer_id,
        remaining_{{ r - 1 }}.currency,
        remaining_{{ r - 1 }}.issued_at,
        cast(remaining_{{ r - 1 }}.remaining - coalesce(allocated_{{ r }}.amount, 0) as {{ tally.money_type() }})
            as remaining
    from remaining_{{ r - 1 }}
    left join allocated_{{ r }}
        on remaining_{{ r - 1 }}.invoice_id = allocated_{{ r }}.invoice_id
),
{% endfor %}

final as (
    {% for r in range(1, max_wallets + 1) %}
    select wallet_id, invoice_id, amount from allocated_{{ r }}
    union all
    {% endfor %}
    select wallet_id, invoice_id, amount from frozen
)

select * from final
