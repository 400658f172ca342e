-- billing.wallet_ledger: every move of every prepaid wallet — credits purchased, granted,
-- consumed by an invoice, expired — with the running balance in the wallet's currency and
-- in credits. The money is what is exact (each purchase is rounded to the minor unit once);
-- credits are that money over the wallet's rate, as Lago snaps credits to amount / rate.
-- Counting credits on their own would drift: 10 credits at 0.155 JPY are worth 2 JPY, and
-- spending those 2 JPY would take 12.9 credits from a wallet holding 10.
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

customers as (
    select * from {{ ref('stg_customers') }}
),

moves as (
    select
        transactions.wallet_id,
        transactions.created_at as entry_at,
        0 as entry_order,
        transactions.line_number as entry_seq,
        transactions.kind as entry_type,
        case when transactions.kind = 'purchased'
            then 'inv_credit_' || transactions.wallet_id || '_' || cast(transactions.line_number as {{ dbt.type_string() }})
        end as invoice_id,
        transactions.amount
    from transactions
    inner join wallets as owners
        on transactions.wallet_id = owners.wallet_id
    inner join customers as owner_customers
        on owners.external_customer_id = owner_customers.external_customer_id
    -- the window's end is a local date, as for the credit invoices (int_invoices): a purchase on
    -- its last local day after midnight UTC is in the window, and pays its invoices. One at the
    -- window end's local midnight itself is in it too: the window's invoices issue at that
    -- instant and may spend it (int_wallet_allocations), so the ledger must show it before them
    where transactions.created_on < {{ tally.billing_to() }}
        or {{ tally.utc_to_local('transactions.created_at', 'owner_customers.timezone') }}
            = cast({{ tally.billing_to() }} as timestamp)
    union all
    select
        allocations.wallet_id,
        invoices.issued_at,
        1,
        0,
        'consumed',
        allocations.invoice_id,
        -1 * allocations.amount
    from allocations
    inner join invoices
        on allocations.invoice_id = invoices.invoice_id
),

expiries as (
    -- what is left when a wallet expires is lost, and shown as such. The window's end is a
    -- local date, as for purchases: an expiry on its last local day after midnight UTC is in
    -- the window, one on the next local day before midnight UTC is not
    select
        wallets.wallet_id,
        wallets.expires_at as entry_at,
        2 as entry_order,
        0 as entry_seq,
        'expired' as entry_type,
        cast(null as {{ dbt.type_string() }}) as invoice_id,
        -1 * sum(moves.amount) as amount
    from wallets
    inner join customers
        on wallets.external_customer_id = customers.external_customer_id
    inner join moves
        on wallets.wallet_id = moves.wallet_id
    where cast({{ tally.utc_to_local('wallets.expires_at', 'customers.timezone') }} as date) < {{ tally.billing_to() }}
    group by 1, 2, 3, 4, 5, 6
    having sum(moves.amount) > 0
),

entries as (
    select * from moves
    union all
    select * from expiries
),

balances as (
    select
        entries.*,
        sum(entries.amount) over (partition by entries.wallet_id order by entries.entry_at, entries.entry_order, entries.entry_seq, entries.invoice_id
            rows between unbounded preceding and current row) as balance_amount
    from entries
),

final as (
    select
        balances.wallet_id,
        wallets.external_customer_id,
        wallets.currency,
        balances.entry_at,
        cast(balances.entry_type as {{ dbt.type_string() }}) as entry_type,
        balances.invoice_id,
        {{ tally.to_num(tally.divide('balances.amount', 'wallets.rate_amount')) }} as credits,
        cast(balances.amount as {{ tally.money_type() }}) as amount,
        {{ tally.to_num(tally.divide('balances.balance_amount', 'wallets.rate_amount')) }} as balance_credits,
        cast(balances.balance_amount as {{ tally.money_type() }}) as balance_amount
    from balances
    inner join wallets
        on balances.wallet_id = wallets.wallet_id
)

select * from final
