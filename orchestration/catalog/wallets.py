"""wallets.csv: in the customer's currency, a positive rate, a bounded number per customer."""
from __future__ import annotations

from typing import NamedTuple

from orchestration.catalog_kit.cells import date_or_datetime, dec, whole
from orchestration.catalog_kit.check import Check
from orchestration.catalog_kit.files import Row
from orchestration.catalog_kit.tables import Int, Money, OptText, Text
from orchestration.lib.money import is_known_currency

# The billing SQL stacks a customer's wallets ten deep.
MAX_WALLETS = 10
DEFAULT_WALLET_PRIORITY = 50


class Wallet(NamedTuple):
    table = "wallets"
    wallet_id: Text
    external_customer_id: Text
    currency: Text
    rate_amount: Money
    priority: Int
    expiration_at: OptText  # the ISO date or datetime as written; null: never
    line_number: Int  # the row of wallets.csv


def check(c: Check, customers: dict[str, Row]) -> dict[str, str | None]:
    """Each wallet's expiration_at (None: never), by id."""
    problems = c.problems
    expirations: dict[str, str | None] = {}
    wallets_of: dict[str, int] = {}
    for r in c.unique("wallets.csv", "id").values():
        d = r.data
        cur = d["currency"].upper()
        _check_customer(r, customers.get(d["external_customer_id"]), cur, problems)
        rate = dec(r, "rate_amount", problems, allow_negative=True)
        if rate is not None and rate <= 0:
            problems.append(f"{r.where()}: rate_amount={d['rate_amount']!r} must be above 0 "
                            f"(rule: rate_amount is the currency value of one credit)")
        priority = DEFAULT_WALLET_PRIORITY if d["priority"] == "" else whole(
            r, "priority", problems, 1, DEFAULT_WALLET_PRIORITY, "Lago wallet priority 1..50; empty = 50")
        expiration = date_or_datetime(r, "expiration_at", problems, False)
        wallets_of[d["external_customer_id"]] = wallets_of.get(d["external_customer_id"], 0) + 1
        if wallets_of[d["external_customer_id"]] > MAX_WALLETS:
            problems.append(f"{r.where()}: customer {d['external_customer_id']!r} has more than {MAX_WALLETS} "
                            f"wallets (rule: at most {MAX_WALLETS} wallets per customer; billing stacks at most "
                            f"{MAX_WALLETS})")
        expirations[d["id"]] = expiration
        c.add(Wallet(d["id"], d["external_customer_id"], cur, rate, priority, expiration, r.line))
    return expirations


def _check_customer(r: Row, cust: Row | None, cur: str, problems: list[str]) -> None:
    """The customer exists; the currency is known and the customer's."""
    d = r.data
    if cust is None:
        problems.append(f"{r.where()}: external_customer_id {d['external_customer_id']!r} does not exist "
                        f"in customers.csv")
    if not is_known_currency(cur):
        problems.append(f"{r.where()}: currency {d['currency']!r} is not a known ISO 4217 code")
    elif cust and cur != cust.data["currency"].upper():
        problems.append(f"{r.where()}: wallet currency {cur} differs from customer {cust.data['external_id']!r} "
                        f"currency {cust.data['currency'].upper()} (rule: a wallet applies only in its "
                        f"customer's invoice currency)")
