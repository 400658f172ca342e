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


# a trial longer than a century is a typo, and would overflow the date arithmetic downstream
MAX_TRIAL_DAYS = 36_500


def _trial_period(r: Row, problems: list[str]) -> int:
    """Whole days, 0 to MAX_TRIAL_DAYS; empty means 0. Lago takes fractional days (hours of a
    trial); Tally's periods are whole local days, so a fraction is refused, not truncated."""
    raw = r.data["trial_period"]
    if not raw:
        return 0
    try:
        days = Decimal(raw)
        if days.is_finite() and days == days.to_integral_value() and 0 <= days <= MAX_TRIAL_DAYS:
            return int(days)
    except InvalidOperation:
        pass
    problems.append(f"{r.where()}: trial_period={raw!r} must be a whole number of days from 0 to {MAX_TRIAL_DAYS}")
    return 0
