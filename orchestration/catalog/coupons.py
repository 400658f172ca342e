"""coupons.csv: the value the coupon type uses, and its frequency."""
from __future__ import annotations

from decimal import Decimal
from typing import NamedTuple

from orchestration.catalog_kit.cells import dec, whole
from orchestration.catalog_kit.check import Check
from orchestration.catalog_kit.files import Row
from orchestration.catalog_kit.tables import Int, Money, Text

COUPON_TYPES = {"fixed_amount", "percentage"}
COUPON_FREQUENCIES = {"once", "recurring", "forever"}


class Coupon(NamedTuple):
    table = "coupons"
    coupon_code: Text
    coupon_type: Text
    amount: Money  # fixed_amount coupons only
    percentage_rate: Money  # percentage coupons only
    frequency: Text
    frequency_duration: Int  # recurring coupons only


def check(c: Check) -> dict[str, Row]:
    """The coupons by code."""
    problems = c.problems
    coupons = c.unique("coupons.csv", "code")
    for r in coupons.values():
        d = r.data
        ctype, frequency = d["coupon_type"], d["frequency"]
        amount, rate = _value(r, problems)
        duration = None
        if frequency not in COUPON_FREQUENCIES:
            problems.append(f"{r.where()}: frequency {frequency!r} is unknown "
                            f"(rule: one of {sorted(COUPON_FREQUENCIES)})")
        elif frequency == "recurring":
            duration = whole(r, "frequency_duration", problems, 1, None,
                             "a recurring coupon needs frequency_duration > 0")
        c.add(Coupon(d["code"], ctype, amount, rate, frequency, duration))
    return coupons


def _value(r: Row, problems: list[str]) -> tuple[Decimal | None, Decimal | None]:
    """(amount, percentage_rate): only the value the coupon type uses is kept; the other column
    is ignored, as Lago does."""
    d, ctype = r.data, r.data["coupon_type"]
    amount = rate = None
    if ctype not in COUPON_TYPES:
        problems.append(f"{r.where()}: coupon_type {ctype!r} is unknown (rule: one of {sorted(COUPON_TYPES)})")
    elif ctype == "fixed_amount":
        amount = dec(r, "amount", problems, allow_negative=True)
        if amount is not None and amount <= 0:
            problems.append(f"{r.where()}: amount={d['amount']!r} must be above 0 "
                            f"(rule: a fixed_amount coupon needs amount > 0)")
    else:
        rate = dec(r, "percentage_rate", problems, allow_negative=True)
        if rate is not None and not Decimal(0) < rate <= Decimal(100):
            problems.append(f"{r.where()}: percentage_rate={d['percentage_rate']!r} must be above 0 and at "
                            f"most 100 (rule: a percentage coupon needs 0 < percentage_rate <= 100)")
    return amount, rate
