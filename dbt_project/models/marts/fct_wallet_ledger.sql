-- billing.wallet_ledger: every move of every prepaid wallet — credits purchased, granted,
-- consumed by an invoice, expired — with the running balance in credits and in the
-- wallet's currency. Consumed credits are the amount over the wallet's rate.
with transactions as (
    select * from {{ ref('int_wallet_transactions') }}
),

allocations as (
    select * from {{ ref('int_wallet_allocations') }}
),

invoices as (
    select * from {{ ref('int_invoices') }}
),

wallets as (
    select * from {{ ref('stg_wallets') }}
),

moves as (
    select
        transactions.wallet_id,
        transactions.external_customer_id,
        transactions.currency,
        transactions.created_at as entry_at,
        0 as entry_order,
        transactions.line_number as entry_seq,
        transactions.kind as entry_type,
        case when transactions.kind = 'purchased'
            then 'inv_credit_' || transactions.wallet_id || '_' || cast(transactions.line_number as {{ dbt.type_string() }})
        end as invoice_id,
        {{ tally.to_num('transactions.credits') }} as credits,
        {{ tally.to_num('transactions.amount') }} as amount
    from transactions
    where transactions.created_at < cast('{{ var("billing_to") }}' as timestamp)
    union all
    select
        allocations.wallet_id,
        wallets.external_customer_id,
        wallets.currency,
        invoices.issued_at,
        1,
        0,
        'consumed',
        allocations.invoice_id,
        {{ tally.to_num('-1 * ' ~ tally.divide('allocations.amount', 'wallets.rate_amount')) }},
        {{ tally.to_num('-1 * allocations.amount') }}
    from allocations
    inner join wallets
        on allocations.wallet_id = wallets.wallet_id
    inner join invoices
        on allocations.invoice_id = invoices.invoice_id
),

expiries as (
    -- what is left when a wallet expires is lost, and shown as such
    select
        wallets.wallet_id,
        wallets.external_customer_id,
        wallets.currency,
        wallets.expires_at as entry_at,
        2 as entry_order,
        0 as entry_seq,
        'expired' as entry_type,
        cast(null as {{ dbt.type_string() }}) as invoice_id,
        {{ tally.to_num('-1 * sum(moves.credits)') }} as credits,
        {{ tally.to_num('-1 * sum(moves.amount)') }} as amount
    from wallets
    inner join moves
        on wallets.wallet_id = moves.wallet_id
    where wallets.expires_at < cast('{{ var("billing_to") }}' as timestamp)
    group by 1, 2, 3, 4, 5, 6, 7, 8
    having sum(moves.amount) > 0
),

entries as (
    select * from moves
    union all
    select * from expiries
),

final as (
    select
        wallet_id,
        external_customer_id,
        currency,
        entry_at,
        cast(entry_type as {{ dbt.type_string() }}) as entry_type,
        invoice_id,
        credits,
        cast(amount as {{ tally.money_type() }}) as amount,
        {{ tally.to_num('sum(credits) over (partition by wallet_id order by entry_at, entry_order, entry_seq, invoice_id '
                        ~ 'rows between unbounded preceding and current row)') }} as balance_credits,
        cast(sum(amount) over (partition by wallet_id order by entry_at, entry_order, entry_seq, invoice_id
            rows between unbounded preceding and current row) as {{ tally.money_type() }}) as balance_amount
    from entries
)

select * from final
