-- Invoices frozen by `tally finalize`: published as they are, forever.
{{ tally.finalized_or_empty('invoices', ref('int_invoices_rated'), tally.invoice_columns()) }}
