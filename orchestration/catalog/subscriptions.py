"""subscriptions.csv: the customer and plan exist and share a currency; dates in order.

Several rows with one external_id are a plan change (docs/decisions.md 34): segments of one
subscription, back to back, each billed as a subscription of its own (both plans prorated) and
published under the one external_id. Lago's rules are checked: a downgrade (a smaller yearly
amount) takes effect at the end of a billing period, an upgrade at once; what Tally cannot bill
like Lago yet is refused (anniversary billing, a trial on the new plan, leaving a pay-in-advance
plan inside its period, a recurring metric charged on both sides)."""
from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from itertools import pairwise
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


# Lago's plan.yearly_amount_cents: the fee scaled to a year
PER_YEAR = {"weekly": 52, "monthly": 12, "quarterly": 4, "yearly": 1}
MONTHS = {"monthly": 1, "quarterly": 3, "yearly": 12}


def check(c: Check, customers: dict[str, Row], plans: dict[str, Row]) -> None:
    problems = c.problems
    segments: dict[str, list[tuple[Row, str | None, str | None]]] = {}
    for r in c.rows["subscriptions.csv"]:
        d = r.data
        if d["external_id"] == "":
            problems.append(f"{r.where()}: external_id is required")
            continue
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
        segments.setdefault(d["external_id"], []).append((r, start, end))
        c.add(Subscription(d["external_id"], d["external_customer_id"], d["plan_code"], start, end, bt))
    recurring = _recurring_metrics_by_plan(c)
    for rows in segments.values():
        if len(rows) > 1:
            _check_plan_change(rows, plans, recurring, problems)


def _recurring_metrics_by_plan(c: Check) -> dict[str, set[str]]:
    recurring = {m.data["code"] for m in c.rows["billable_metrics.csv"]
                 if m.data["recurring"].lower() in ("true", "t", "1", "yes")}
    out: dict[str, set[str]] = {}
    for ch in c.rows["charges.csv"]:
        if ch.data["billable_metric_code"] in recurring:
            out.setdefault(ch.data["plan_code"], set()).add(ch.data["billable_metric_code"])
    return out


def _yearly(plan: Row) -> Decimal | None:
    try:
        return Decimal(plan.data["amount"] or "0") * PER_YEAR[plan.data["interval"]]
    except (ArithmeticError, KeyError):
        return None


def is_period_start(interval: str, day: date) -> bool:
    """A calendar billing period starts on `day` (Monday; the 1st of a month, quarter, year)."""
    if interval == "weekly":
        return day.weekday() == 0
    return day.day == 1 and (day.month - 1) % MONTHS.get(interval, 1) == 0


def _next_period_start(interval: str, day: date) -> date:
    if interval == "weekly":
        return day + timedelta(days=7 - day.weekday())
    step = MONTHS.get(interval, 1)
    month = (day.month - 1) // step * step + step  # months since January of the next period start
    return date(day.year + month // 12, month % 12 + 1, 1)


def _check_plan_change(rows: list[tuple[Row, str | None, str | None]], plans: dict[str, Row],
                       recurring: dict[str, set[str]], problems: list[str]) -> None:
    """The segments of one external_id, in start order: same customer, calendar billing, back to
    back (an ending date is the day before the next start; an ending datetime is the next start),
    and a change Lago would make: a downgrade at a period's start, an upgrade from a plan billed
    in arrears at any time (from one billed in advance, at a period's start: Lago's credit note
    for the unused days is not built)."""
    rows = sorted(rows, key=lambda x: (x[1] or "", x[0].line))
    first = rows[0][0]
    for (prev, p_start, p_end), (row, start, _) in pairwise(rows):
        sub, where = row.data["external_id"], row.where()
        rule = f"(rule: the rows of subscription {sub!r} are plan segments back to back, docs/decisions.md 34)"
        if row.data["external_customer_id"] != first.data["external_customer_id"]:
            problems.append(f"{where}: subscription {sub!r} changes customer (first row {first.line}) {rule}")
            continue
        if "anniversary" in ((prev.data["billing_time"] or "calendar"), (row.data["billing_time"] or "calendar")):
            problems.append(f"{where}: a plan change of an anniversary subscription is not supported yet (Lago "
                            f"keeps the first plan's anniversary; rule: plan changes need calendar billing)")
            continue
        if not (p_start and p_end and start):
            if p_end is None and p_start and start:
                problems.append(f"{prev.where()}: subscription {sub!r} has a later row ({row.line}) but no ending_at "
                                f"{rule}")
            continue
        if len(p_end) == 10 and len(start) == 10:
            back_to_back = date.fromisoformat(p_end) + timedelta(days=1) == date.fromisoformat(start)
        else:
            back_to_back = p_end == start
        if not back_to_back:
            problems.append(f"{where}: started_at {start} does not follow row {prev.line}'s ending_at {p_end} "
                            f"(an ending date is the last day, the next row starts the day after; an ending "
                            f"datetime is the next row's started_at) {rule}")
            continue
        old, new = plans.get(prev.data["plan_code"]), plans.get(row.data["plan_code"])
        if old is None or new is None:
            continue
        if old.data["code"] == new.data["code"]:
            problems.append(f"{where}: subscription {sub!r} changes to the plan it is on ({new.data['code']!r}) "
                            f"{rule}")
            continue
        if (new.data.get("trial_period") or "0") not in ("", "0"):
            problems.append(f"{where}: plan {new.data['code']!r} has a trial: a plan change onto a trial is not "
                            f"supported yet (rule: the new plan of a plan change has trial_period 0)")
        shared = recurring.get(old.data["code"], set()) & recurring.get(new.data["code"], set())
        if shared:
            problems.append(f"{where}: plans {old.data['code']!r} and {new.data['code']!r} both charge recurring "
                            f"metric(s) {sorted(shared)}, whose value Lago carries over a plan change: not "
                            f"supported yet (rule: a plan change between plans sharing a recurring metric is refused)")
        day = date.fromisoformat(start[:10])
        at_boundary = len(start) == 10 and is_period_start(old.data["interval"], day)
        old_y, new_y = _yearly(old), _yearly(new)
        if old_y is not None and new_y is not None and new_y < old_y and not at_boundary:
            problems.append(f"{where}: {old.data['code']!r} -> {new.data['code']!r} is a downgrade (yearly amount "
                            f"{new_y} < {old_y}), which Lago applies at the end of the current billing period: "
                            f"started_at must be {_next_period_start(old.data['interval'], day)} (rule: a downgrade "
                            f"takes effect on the first day of a billing period, an upgrade at once)")
        elif old.data["pay_in_advance"].lower() in ("true", "t", "1", "yes") and not at_boundary:
            problems.append(f"{where}: leaving {old.data['code']!r}, paid in advance, inside its billing period "
                            f"is not supported yet (Lago credits the unused days; rule: start the new plan on "
                            f"{_next_period_start(old.data['interval'], day)})")
