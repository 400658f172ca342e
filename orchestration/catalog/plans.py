"""plans.csv: interval, currency, amount, trial and commitment."""
from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import NamedTuple

from orchestration.catalog_kit.cells import boolean, codes, dec
from orchestration.catalog_kit.check import Check
from orchestration.catalog_kit.files import Row
from orchestration.catalog_kit.tables import Flag, Int, Money, Text
from orchestration.lib.money import is_known_currency

INTERVALS = {"weekly", "monthly", "quarterly", "yearly"}


class Plan(NamedTuple):
    table = "plans"
    code: Text
    name: Text
    interval: Text
    amount: Money
    currency: Text
    pay_in_advance: Flag
    trial_period: Int
    minimum_commitment: Money  # null: none (0 too, as in Lago)


class PlanTax(NamedTuple):
    table = "plan_taxes"
    plan_code: Text
    tax_code: Text


def check(c: Check, taxes: dict[str, Row]) -> dict[str, Row]:
    """The plans by code."""
    problems = c.problems
    plans = c.unique("plans.csv", "code")
    for r in plans.values():
        d = r.data
        if d["interval"] not in INTERVALS:
            problems.append(f"{r.where()}: interval {d['interval']!r} is unknown (rule: one of {sorted(INTERVALS)})")
        cur = d["currency"].upper()
        if not is_known_currency(cur):
            problems.append(f"{r.where()}: currency {d['currency']!r} is not a known ISO 4217 code")
        amount = dec(r, "amount", problems)
        trial = _trial_period(r, problems)
        commitment = dec(r, "minimum_commitment", problems, required=False) or None  # 0: none, as in Lago
        c.add(Plan(d["code"], d["name"], d["interval"], amount, cur, boolean(r, "pay_in_advance", problems), trial,
                   commitment))
        for code in codes(r, "tax_codes", taxes, problems):
            c.add(PlanTax(d["code"], code))
    return plans


def _trial_period(r: Row, problems: list[str]) -> int:
    """Whole days >= 0; empty means 0."""
    trial = 0
    if r.data["trial_period"]:
        try:
            trial = int(Decimal(r.data["trial_period"]))
            if trial < 0:
                raise ValueError
        except (InvalidOperation, ValueError):
            problems.append(f"{r.where()}: trial_period must be a whole number of days >= 0")
    return trial
