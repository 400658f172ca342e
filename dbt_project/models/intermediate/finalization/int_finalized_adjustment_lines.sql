-- The per-line differences of the frozen adjustments (finalized.adjustment_lines), keyed by
-- the adjusted invoice's own line ids: what the next round's lines are taken against.
-- full_units is null in a round frozen before the column existed (finalized_table).
{{ tally.finalized_table('adjustment_lines', [
    ('adjusted_invoice_id', dbt.type_string()), ('adjustment_round', 'integer'), ('line_id', dbt.type_string()),
    ('fee_type', dbt.type_string()), ('charge_id', dbt.type_string()), ('billable_metric_code', dbt.type_string()),
    ('units', tally.num_type()), ('events_count', 'bigint'), ('amount', tally.money_type()),
    ('taxes_amount', tally.money_type()), ('currency', dbt.type_string()), ('full_units', tally.num_type())]) }}
