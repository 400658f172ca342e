"""taxes.csv: codes and rates in percent."""
from __future__ import annotations

from decimal import Decimal
from typing import NamedTuple

from orchestration.catalog_kit.cells import boolean, dec
from orchestration.catalog_kit.check import Check
from orchestration.catalog_kit.files import Row
from orchestration.catalog_kit.tables import Flag, Money, Text


class Tax(NamedTuple):
    table = "taxes"
    tax_code: Text
    name: Text
    rate: Money
    applied_by_default: Flag


def check(c: Check) -> dict[str, Row]:
    """The taxes by code."""
    problems = c.problems
    taxes = c.unique("taxes.csv", "code")
    for r in taxes.values():
        d = r.data
        rate = dec(r, "rate", problems, allow_negative=True)
        if rate is not None and not Decimal(0) <= rate <= Decimal(100):
            problems.append(f"{r.where()}: rate={d['rate']!r} is not a percent from 0 to 100 "
                            f"(rule: a tax rate is in percent)")
        c.add(Tax(d["code"], d["name"], rate, boolean(r, "applied_by_default", problems)))
    return taxes
