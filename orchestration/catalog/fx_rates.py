"""fx_rates.csv: positive rates, one per date and currency."""
from __future__ import annotations

from typing import NamedTuple

from orchestration.catalog_kit.cells import date_or_datetime, dec
from orchestration.catalog_kit.check import Check
from orchestration.catalog_kit.files import Row
from orchestration.catalog_kit.tables import Money, OptText, Text
from orchestration.lib.money import is_known_currency


class FxRate(NamedTuple):
    table = "fx_rates"
    rate_date: OptText  # the ISO date as written
    currency: Text
    rate: Money


def check(c: Check) -> None:
    problems = c.problems
    fx_seen: dict[tuple[str, str], Row] = {}
    for r in c.rows["fx_rates.csv"]:
        d = r.data
        rate_date = date_or_datetime(r, "date", problems, True, date_only=True)
        cur = d["currency"].upper()
        if not is_known_currency(cur):
            problems.append(f"{r.where()}: currency {d['currency']!r} is not a known ISO 4217 code")
        rate = dec(r, "rate", problems, allow_negative=True)
        if rate is not None and rate <= 0:
            problems.append(f"{r.where()}: rate={d['rate']!r} must be above 0 (rule: an exchange rate is positive)")
        if rate_date is not None:
            if (rate_date, cur) in fx_seen:
                problems.append(f"{r.where()}: duplicate date and currency ({rate_date}, {cur}) "
                                f"(first at row {fx_seen[(rate_date, cur)].line})")
            else:
                fx_seen[(rate_date, cur)] = r
        c.add(FxRate(rate_date, cur, rate))
