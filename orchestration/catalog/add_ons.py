"""add_ons.csv: Lago's add-ons, the products a fixed charge bills every period and a one-off
invoice bills once (app/models/add_on.rb: a code, an amount in one currency, taxes)."""
from __future__ import annotations

from typing import NamedTuple

from orchestration.catalog_kit.cells import codes, dec
from orchestration.catalog_kit.check import Check
from orchestration.catalog_kit.files import Row
from orchestration.catalog_kit.tables import Money, Text
from orchestration.lib.money import is_known_currency


class AddOn(NamedTuple):
    table = "add_ons"
    add_on_code: Text
    name: Text
    amount: Money  # the price of one unit on a one-off invoice (a fixed charge's price is its properties)
    currency: Text
    invoice_display_name: Text


class AddOnTax(NamedTuple):
    table = "add_on_taxes"
    add_on_code: Text
    tax_code: Text


def check(c: Check, taxes: dict[str, Row]) -> dict[str, Row]:
    """The add-ons by code."""
    problems = c.problems
    add_ons = c.unique("add_ons.csv", "code")
    for r in add_ons.values():
        d = r.data
        if d["name"] == "":
            problems.append(f"{r.where()}: name is required")
        cur = d["currency"].upper()
        if not is_known_currency(cur):
            problems.append(f"{r.where()}: currency {d['currency']!r} is not a known ISO 4217 code")
        amount = dec(r, "amount", problems)
        c.add(AddOn(d["code"], d["name"], amount, cur, d["invoice_display_name"]))
        for code in codes(r, "tax_codes", taxes, problems):
            c.add(AddOnTax(d["code"], code))
    return add_ons
