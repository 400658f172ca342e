"""customers.csv: currency, time zone and tax codes."""
from __future__ import annotations

from typing import NamedTuple
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from orchestration.catalog_kit.cells import codes
from orchestration.catalog_kit.check import Check
from orchestration.catalog_kit.files import Row
from orchestration.catalog_kit.tables import Text
from orchestration.lib.money import is_known_currency


class Customer(NamedTuple):
    table = "customers"
    external_id: Text
    name: Text
    currency: Text
    timezone: Text
    tax_codes: Text  # as written; customer_taxes holds them one per row


class CustomerTax(NamedTuple):
    table = "customer_taxes"
    external_customer_id: Text
    tax_code: Text


def check(c: Check, taxes: dict[str, Row]) -> dict[str, Row]:
    """The customers by external_id."""
    problems = c.problems
    customers = c.unique("customers.csv", "external_id")
    for r in customers.values():
        d = r.data
        cur = d["currency"].upper()
        if not is_known_currency(cur):
            problems.append(f"{r.where()}: currency {d['currency']!r} is not a known ISO 4217 code")
        tz = d["timezone"] or "UTC"
        try:
            ZoneInfo(tz)
        except (ZoneInfoNotFoundError, ValueError):
            problems.append(f"{r.where()}: timezone {tz!r} is not an IANA time zone name")
        c.add(Customer(d["external_id"], d["name"], cur, tz, d["tax_codes"]))
        for code in codes(r, "tax_codes", taxes, problems):
            c.add(CustomerTax(d["external_id"], code))
    return customers
