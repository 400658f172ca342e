-- Credits bought or granted into prepaid wallets, valued in the wallet's currency:
-- amount = credits × rate_amount rounded half-up to the minor unit (Lago wallet_credit).
-- A purchase is invoiced (a `credit` invoice); a grant is free.
with transactions as (
    select * from {{ ref('stg_wallet_transactions') }}
),

wallets as (
    select * from {{ ref('stg_wallets') }}
),

customers as (
    select * from {{ ref('stg_customers') }}
),

currencies as (
    select * from {{ ref('currencies') }}
),

final as (
    select
        transactions.wallet_id,
        transactions.line_number,
        transactions.kind,
        wallets.external_customer_id,
        wallets.currency,
        wallets.rate_amount,
        wallets.priority,
        wallets.wallet_order,
        wallets.expires_at,
        transactions.credits,
        {{ tally.round_money('transactions.credits * wallets.rate_amount', 'currencies.minor_unit') }} as amount,
        transactions.created_at,
        cast({{ tally.utc_to_local('transactions.created_at', 'customers.timezone') }} as date) as created_on
    from transactions
    inner join wallets
        on transactions.wallet_id = wallets.wallet_id
    inner join customers
        on wallets.external_customer_id = customers.external_customer_id
    inner join currencies
        on wallets.currency = currencies.currency
)

select * from final
