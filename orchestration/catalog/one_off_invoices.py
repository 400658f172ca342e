"""one_off_invoices.csv: Lago's one-off invoices (invoices/create_one_off_service.rb,
fees/one_off_service.rb): one add-on billed once to a customer on a day, `units` × the add-on's
amount or `unit_amount`. One row is one invoice with one fee. Rules: docs/decisions.md 24."""
from __future__ import annotations

from decimal import Decimal
from typing import NamedTuple

from orchestration.catalog_kit.cells import date_or_datetime, dec
from orchestration.catalog_kit.check import Check
from orchestration.catalog_kit.files import Row
from orchestration.catalog_kit.tables import Int, Money, OptText, Text


class OneOffInvoice(NamedTuple):
    table = "one_off_invoices"
    external_customer_id: Text
    add_on_code: Text
    units: Money  # 1 when unset (Lago: units || 1)
    unit_amount: Money  # the add-on's amount when unset (Lago: unit_amount_cents || add_on.amount_cents)
    issuing_date: OptText  # the customer's local day (ISO date)
    invoice_display_name: Text  # the add-on's when empty
    line_number: Int  # the row of one_off_invoices.csv: the invoice is inv_one_off_<customer>_<row>


def check(c: Check, customers: dict[str, Row], add_ons: dict[str, Row]) -> None:
    problems = c.problems
    for r in c.rows["one_off_invoices.csv"]:
        d = r.data
        customer = customers.get(d["external_customer_id"])
        add_on = add_ons.get(d["add_on_code"])
        if customer is None:
            problems.append(f"{r.where()}: external_customer_id {d['external_customer_id']!r} does not exist in "
                            f"customers.csv")
        if add_on is None:
            problems.append(f"{r.where()}: add_on_code {d['add_on_code']!r} does not exist in add_ons.csv")
        units = Decimal(1) if d["units"] == "" else dec(r, "units", problems)
        unit_amount = dec(r, "unit_amount", problems, required=False)
        if unit_amount is None and d["unit_amount"] == "" and customer is not None and add_on is not None:
            cur, add_on_cur = customer.data["currency"].upper(), add_on.data["currency"].upper()
            if cur != add_on_cur:
                problems.append(f"{r.where()}: add-on {d['add_on_code']!r} costs {add_on.data['amount']} {add_on_cur} "
                                f"but customer {d['external_customer_id']!r} pays in {cur} (rule: an invoice is in "
                                f"the customer's currency; give unit_amount in {cur})")
            unit_amount = dec(add_on, "amount", [])
        issuing = date_or_datetime(r, "issuing_date", problems, True, date_only=True)
        name = d["invoice_display_name"] or (add_on.data["invoice_display_name"] or add_on.data["name"]
                                             if add_on else "")
        c.add(OneOffInvoice(d["external_customer_id"], d["add_on_code"], units, unit_amount, issuing, name, r.line))
