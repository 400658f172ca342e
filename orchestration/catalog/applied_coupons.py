"""applied_coupons.csv: once per customer and coupon, a bounded number per customer."""
from __future__ import annotations

from typing import NamedTuple

from orchestration.catalog_kit.cells import date_or_datetime
from orchestration.catalog_kit.check import Check
from orchestration.catalog_kit.files import Row
from orchestration.catalog_kit.tables import Int, OptText, Text

# The billing SQL stacks a customer's applied coupons ten deep.
MAX_APPLIED_COUPONS = 10


class AppliedCoupon(NamedTuple):
    table = "applied_coupons"
    coupon_code: Text
    external_customer_id: Text
    applied_at: OptText  # the ISO date or datetime as written
    line_number: Int  # the row of applied_coupons.csv


def check(c: Check, coupons: dict[str, Row], customers: dict[str, Row]) -> None:
    problems = c.problems
    applied_pairs: dict[tuple[str, str], Row] = {}
    coupons_of: dict[str, int] = {}
    for r in c.rows["applied_coupons.csv"]:
        d = r.data
        code, cust = d["coupon_code"], d["external_customer_id"]
        if code not in coupons:
            problems.append(f"{r.where()}: coupon_code {code!r} does not exist in coupons.csv")
        if cust not in customers:
            problems.append(f"{r.where()}: external_customer_id {cust!r} does not exist in customers.csv")
        applied = date_or_datetime(r, "applied_at", problems, True)
        if (code, cust) in applied_pairs:
            problems.append(f"{r.where()}: coupon {code!r} is already applied to customer {cust!r} "
                            f"(row {applied_pairs[(code, cust)].line}; rule: a coupon applies once per customer)")
        else:
            applied_pairs[(code, cust)] = r
        coupons_of[cust] = coupons_of.get(cust, 0) + 1
        if coupons_of[cust] > MAX_APPLIED_COUPONS:
            problems.append(f"{r.where()}: customer {cust!r} has more than {MAX_APPLIED_COUPONS} applied coupons "
                            f"(rule: at most {MAX_APPLIED_COUPONS} applied coupons per customer; billing stacks "
                            f"at most {MAX_APPLIED_COUPONS})")
        c.add(AppliedCoupon(code, cust, applied, r.line))
