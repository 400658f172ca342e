-- Adjustment credit notes frozen by a later month's `tally finalize` (finalized.credit_notes):
-- published as they are, forever.
{{ tally.finalized_table('credit_notes', [
    ('credit_note_id', dbt.type_string()), ('invoice_id', dbt.type_string()), ('reason', dbt.type_string()),
    ('amount', tally.money_type()), ('taxes_amount', tally.money_type()), ('total_amount', tally.money_type()),
    ('currency', dbt.type_string()), ('issuing_date', 'date')]) }}
