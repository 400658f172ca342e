-- The lines of invoices frozen by `tally finalize`.
{{ tally.finalized_or_empty('invoice_lines', ref('int_invoice_lines_rated'), tally.invoice_line_columns()) }}
