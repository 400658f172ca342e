"""Progressive billing (lago-semantics.md §5; Tally decisions 10 and 11): lifetime usage (charge
fees of earlier periods' closing invoices, charge minimums' true-ups included, as Lago's
lifetime_usages/calculate_service sums every `charge` fee + this period's usage so far, without
true-ups, rounded per fee) is followed at each event
instant of the period (events at one instant are one step). A step that reaches a level above
the highest lifetime usage reached before it issues one `progressive_billing` invoice with the
period's charge usage so far, less the previous progressive invoice's fees; the closing invoice
deducts the latest one. Levels: the fixed thresholds, and the multiples of the recurring one
above the largest fixed threshold. Weighted-sum charges are left out of progressive invoices."""
from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

ZERO = Decimal(0)


def crosses(thresholds: list[tuple[Decimal, bool]], before: Decimal, now: Decimal) -> bool:
    fixed = [a for a, recurring in thresholds if not recurring]
    if any(before < a <= now for a in fixed):
        return True
    for r in (a for a, recurring in thresholds if recurring):
        top = max(fixed, default=ZERO)
        k = max(before, top) // r + 1  # the first multiple of r above both
        if k * r <= now:
            return True
    return False


def period_steps(world, sub, p, events_by_code, usage_lines, invoiced: Decimal, new_invoice) -> tuple[list, Decimal]:
    """The period's progressive invoices, as (invoice, lines, credit) made by `new_invoice`, and
    the fees of the latest one. `usage_lines(period, invoice_id)` rates the charges (no true-ups,
    no weighted sums) over a period cut at the step."""
    plan = world.plans[sub.plan]
    instants = sorted({e.at for evs in events_by_code.values() for e in evs if p.from_at <= e.at < p.to_at})
    # a period's start is no step: a first tier's flat fee at 0 units counts from the first event
    # (Lago checks thresholds when usage arrives: invoiced < level <= invoiced + current usage)
    out, highest, previous = [], invoiced, ZERO
    for t in instants:
        cut = replace(p, to_at=t + timedelta(microseconds=1))
        usage = _usage(usage_lines(cut, ""))
        lifetime = invoiced + usage
        if crosses(plan.thresholds, highest, lifetime):
            inv_id = f"inv_{sub.id}_{p.start.strftime('%Y%m%d')}_pb{len(out) + 1}"
            lines = usage_lines(cut, inv_id)
            fees = sum((ln.amount for ln in lines), ZERO)
            out.append(new_invoice(inv_id, t, lines, min(previous, fees)))
            previous = fees
        highest = max(highest, lifetime)
    return out, previous


def _usage(lines) -> Decimal:
    return sum((ln.amount for ln in lines), ZERO)
