-- Every invoice's fees_amount is exactly the sum of its rounded lines.
with lines as (
    select invoice_id, sum(amount) as lines_amount from {{ ref('fct_invoice_lines') }} group by invoice_id
)
select invoices.invoice_id, invoices.fees_amount, coalesce(lines.lines_amount, 0) as lines_amount
from {{ ref('fct_invoices') }} as invoices
left join lines on invoices.invoice_id = lines.invoice_id
where invoices.fees_amount <> coalesce(lines.lines_amount, 0)
