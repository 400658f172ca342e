-- Every invoice adds up in Lago's order, and no deduction goes past what it deducts from:
-- fees - progressive credit - coupons = sub_total_excluding_taxes; + taxes =
-- sub_total_including_taxes; - credit notes - prepaid credits = total_amount >= 0.
select *
from {{ ref('fct_invoices') }}
where sub_total_excluding_taxes <> fees_amount - progressive_billing_credit_amount - coupons_amount
    or sub_total_including_taxes <> sub_total_excluding_taxes + taxes_amount
    or total_amount <> sub_total_including_taxes - credit_notes_amount - prepaid_credit_amount
    or total_amount < 0
    -- an adjustment invoice holds differences: only its total must be positive
    or (invoice_type <> 'adjustment' and (
        sub_total_excluding_taxes < 0
        or progressive_billing_credit_amount < 0
        or coupons_amount < 0
        or taxes_amount < 0))
