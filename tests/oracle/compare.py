"""Tally's published invoices and lines against the oracle's, field by field."""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from tests.helpers import rows
from tests.oracle.model import World
from tests.oracle.rating import Invoice, Line


@dataclass
class Diff:
    lines_compared: int = 0
    invoices_compared: int = 0
    problems: list[str] = field(default_factory=list)


def line_id(line: Line) -> str:
    """Tally's line id: <invoice>:<charge>:<filter index>[:<key>=<value>,...] or <invoice>:subscription:<day>."""
    return f"{line.invoice_id}:{line.key}"


def compare(warehouse: Path, world: World, invoices: list[Invoice], lines: list[Line]) -> Diff:
    d = Diff()
    got_inv = {r[0]: r[1:] for r in rows(warehouse, """
        select invoice_id, external_subscription_id, invoice_type, period_start, period_end, issuing_date,
               currency, fees_amount, coupons_amount, sub_total_excluding_taxes, taxes_amount,
               sub_total_including_taxes, total_amount, prepaid_credit_amount, progressive_billing_credit_amount
        from billing.invoices""")}
    want_inv = {i.invoice_id: (i.subscription or None, i.invoice_type, i.period_start, i.period_end, i.issuing_date,
                               i.currency, i.fees_amount, i.coupons_amount, i.sub_total_excluding_taxes,
                               i.taxes_amount, i.sub_total_including_taxes, i.total_amount, i.prepaid_credit_amount,
                               i.progressive_billing_credit_amount)
                for i in invoices}
    for k in sorted(set(got_inv) | set(want_inv)):
        d.invoices_compared += 1
        g, w = got_inv.get(k), want_inv.get(k)
        if g != w:
            d.problems.append(f"invoice {k}: tally {g} oracle {w}")
    got = {r[0]: r[1:] for r in rows(warehouse, """
        select line_id, fee_type, charge_id, billable_metric_code, units, events_count, amount, taxes_amount
        from billing.invoice_lines""")}
    want = {}
    for ln in lines:
        lid = line_id(ln)
        want[lid] = (ln.fee_type, ln.charge_id, ln.metric, ln.units, ln.events_count, ln.amount, ln.taxes_amount)
    for k in sorted(set(got) | set(want)):
        d.lines_compared += 1
        g, w = got.get(k), want.get(k)
        if g is None or w is None or not _same_line(g, w):
            d.problems.append(f"line {k}: tally {g} oracle {w}")
    return d


def _same_line(g: tuple, w: tuple) -> bool:
    """Exact, except units: Tally publishes them at 10 decimals (weighted sums are not finite)."""
    gu, wu = g[3], w[3]
    return g[:3] == w[:3] and g[4:] == w[4:] and abs(Decimal(gu) - wu) <= Decimal("1e-10")
