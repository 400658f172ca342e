"""subscriptions.csv: the customer and plan exist and share a currency; dates in order."""
from __future__ import annotations

from typing import NamedTuple

from orchestration.catalog_kit.cells import date_or_datetime
from orchestration.catalog_kit.check import Check
from orchestration.catalog_kit.files import Row
from orchestration.catalog_kit.tables import OptText, Text

BILLING_TIMES = {"calendar", "anniversary"}


class Subscription(NamedTuple):
    table = "subscriptions"
    external_id: Text
    external_customer_id: Text
    plan_code: Text
    started_at: OptText  # the ISO date or datetime as written
    ending_at: OptText
    billing_time: Text


def check(c: Check, customers: dict[str, Row], plans: dict[str, Row]) -> None:
    problems = c.problems
    for r in c.unique("subscriptions.csv", "external_id").values():
        d = r.data
        cust = customers.get(d["external_customer_id"])
        plan = plans.get(d["plan_code"])
        if cust is None:
            problems.append(f"{r.where()}: external_customer_id {d['external_customer_id']!r} does not exist "
                            f"in customers.csv")
        if plan is None:
            problems.append(f"{r.where()}: plan_code {d['plan_code']!r} does not exist in plans.csv")
        if cust and plan and cust.data["currency"].upper() != plan.data["currency"].upper():
            problems.append(f"{r.where()}: customer {cust.data['external_id']!r} pays in {cust.data['currency']} "
                            f"but plan {plan.data['code']!r} is in {plan.data['currency']} "
                            f"(rule: customer and plan currency must match)")
        bt = d["billing_time"] or "calendar"
        if bt not in BILLING_TIMES:
            problems.append(f"{r.where()}: billing_time {bt!r} is not calendar/anniversary")
        start = date_or_datetime(r, "started_at", problems, True)
        end = date_or_datetime(r, "ending_at", problems, False)
        if start and end and end[:10] < start[:10]:
            problems.append(f"{r.where()}: ending_at {end} is before started_at {start}")
        c.add(Subscription(d["external_id"], d["external_customer_id"], d["plan_code"], start, end, bt))
