-- Adjustments frozen by a later month's `tally finalize` (finalized.adjustments): the
-- differences already issued, per adjusted invoice and round. A new difference is taken
-- against the frozen invoice plus these (int_invoice_adjustments).
{{ tally.finalized_table('adjustments', [
    ('invoice_id', dbt.type_string()), ('adjustment_round', 'integer'), ('adjustment_kind', dbt.type_string()),
    ('frozen_on', 'date'),
    ('fees_amount_delta', tally.money_type()), ('coupons_amount_delta', tally.money_type()),
    ('sub_total_excluding_taxes_delta', tally.money_type()), ('taxes_amount_delta', tally.money_type()),
    ('sub_total_including_taxes_delta', tally.money_type()),
    ('progressive_billing_credit_amount_delta', tally.money_type()), ('events_delta', 'bigint')]) }}
