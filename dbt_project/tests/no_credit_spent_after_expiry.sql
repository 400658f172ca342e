-- A wallet pays nothing once it has expired, and its balance never goes below zero.
select ledger.*
from {{ ref('fct_wallet_ledger') }} as ledger
inner join {{ ref('stg_wallets') }} as wallets
    on ledger.wallet_id = wallets.wallet_id
where (ledger.entry_type = 'consumed' and wallets.expires_at is not null and ledger.entry_at >= wallets.expires_at)
    or ledger.balance_amount < 0
    or ledger.balance_credits < 0
