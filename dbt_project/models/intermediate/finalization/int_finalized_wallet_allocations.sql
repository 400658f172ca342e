-- What each invoice frozen by `tally finalize` took from each wallet: a re-rating never moves
-- it (int_wallet_allocations spends it first, whatever the invoice now rates at).
{{ tally.finalized_table('wallet_allocations', [
    ('wallet_id', dbt.type_string()), ('invoice_id', dbt.type_string()), ('amount', tally.money_type())]) }}
