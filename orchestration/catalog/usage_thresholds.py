"""usage_thresholds.csv: positive amounts, at most one recurring threshold per plan."""
from __future__ import annotations

from decimal import Decimal
from typing import NamedTuple

from orchestration.catalog_kit.cells import boolean, dec
from orchestration.catalog_kit.check import Check
from orchestration.catalog_kit.files import Row
from orchestration.catalog_kit.tables import Flag, Int, Money, Text


class UsageThreshold(NamedTuple):
    table = "usage_thresholds"
    plan_code: Text
    amount: Money
    recurring: Flag
    line_number: Int  # the row of usage_thresholds.csv


def check(c: Check, plans: dict[str, Row]) -> None:
    problems = c.problems
    recurring_plans: dict[str, Row] = {}
    fixed_seen: dict[tuple[str, Decimal], Row] = {}
    for r in c.rows["usage_thresholds.csv"]:
        d = r.data
        if d["plan_code"] not in plans:
            problems.append(f"{r.where()}: plan_code {d['plan_code']!r} does not exist in plans.csv")
        amount = dec(r, "amount", problems)
        if amount is not None and amount <= 0:
            problems.append(f"{r.where()}: amount must be above 0 (rule: a threshold is a positive amount)")
        recurring = boolean(r, "recurring", problems)
        if recurring:
            if d["plan_code"] in recurring_plans:
                problems.append(f"{r.where()}: plan {d['plan_code']!r} already has a recurring threshold "
                                f"(row {recurring_plans[d['plan_code']].line}; rule: at most one per plan)")
            recurring_plans[d["plan_code"]] = r
        elif amount is not None:
            key = (d["plan_code"], amount)
            if key in fixed_seen:
                problems.append(f"{r.where()}: plan {d['plan_code']!r} already has a threshold of {amount} "
                                f"(row {fixed_seen[key].line})")
            fixed_seen[key] = r
        c.add(UsageThreshold(d["plan_code"], amount, recurring, r.line))
