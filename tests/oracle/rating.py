"""The oracle: a world's invoices and invoice lines, rated in plain Python from the reference
rules (lago-semantics.md, SPEC.md), one fee rounded once half-up to the currency's minor unit."""
from __future__ import annotations

import decimal
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from zoneinfo import ZoneInfo

from tests.oracle import balances, invoicing, meters, pricing, progressive
from tests.oracle.model import Event, Plan, Subscription, World
from tests.oracle.periods import Period, periods
from tests.oracle.world import CURRENCIES

ZERO = Decimal(0)
decimal.getcontext().prec = 60


@dataclass
class Line:
    invoice_id: str
    key: str  # charge id, filter index and group, or "subscription:<period start>"
    fee_type: str
    charge_id: str | None
    metric: str | None
    units: Decimal
    events_count: int
    amount: Decimal
    taxes_amount: Decimal = ZERO
    tax_rates: tuple[Decimal, ...] = ()  # percent, set by invoicing.settle
    precise_taxes_amount: Fraction = Fraction(0)
    coupon_share: Fraction = Fraction(0)  # progressive credit + coupons, per invoicing.share


@dataclass
class Invoice:
    invoice_id: str
    subscription: str
    customer: str
    period_start: date
    period_end: date
    issuing_date: date
    currency: str
    fees_amount: Decimal
    invoice_type: str = "subscription"
    progressive_billing_credit_amount: Decimal = ZERO
    issued_at: datetime | None = None  # progressive invoices: the step's instant (else local midnight)
    coupons_amount: Decimal = ZERO
    taxes_amount: Decimal = ZERO
    prepaid_credit_amount: Decimal = ZERO
    precise_taxes_amount: Fraction = Fraction(0)  # the unrounded sum of the fee taxes, exact

    @property
    def sub_total_excluding_taxes(self) -> Decimal:
        return self.fees_amount - self.progressive_billing_credit_amount - self.coupons_amount

    @property
    def sub_total_including_taxes(self) -> Decimal:
        return self.sub_total_excluding_taxes + self.taxes_amount

    @property
    def total_amount(self) -> Decimal:
        return self.sub_total_including_taxes - self.prepaid_credit_amount


def round_fee(amount: Decimal, currency: str) -> Decimal:
    q = Decimal(1).scaleb(-CURRENCIES[currency])
    return max(amount, ZERO).quantize(q, rounding=ROUND_HALF_UP)


def _ymd(d: date) -> str:
    return d.strftime("%Y%m%d")


def _subscription_fee(world: World, sub: Subscription, p: Period) -> Decimal:
    """The plan's amount for the days of the period after the trial, prorated by full-period days."""
    plan = world.plans[sub.plan]
    first_paid = max(p.start, sub.started + timedelta(days=plan.trial_days))
    days = (p.end - first_paid).days + 1
    if days <= 0:
        return ZERO
    if days == p.full_days:
        return plan.amount
    return round_fee(plan.amount * days / p.full_days, plan.currency)


def _charge_lines(world: World, sub: Subscription, p: Period, invoice_id: str,
                  events: dict[str, list[Event]], progressive: bool = False) -> list[Line]:
    """The charges' lines; for a progressive invoice, without weighted sums and true-ups."""
    plan = world.plans[sub.plan]
    out = []
    for ch in plan.charges:
        metric = world.metrics[ch.metric]
        if progressive and metric.aggregation == "weighted_sum_agg":
            continue
        routed: dict[tuple[int, tuple], list[Event]] = defaultdict(list)
        for e in events.get(ch.metric, []):
            routed[(meters.bucket_of(ch, e.properties), meters.group_of(ch, e.properties))].append(e)
        measured = {}
        for key, evs in routed.items():
            measured[key] = meters.aggregate(metric, evs, p)
        # a grouped charge has one line per group with events; a bucket without any, one line at 0
        seen = {b for (b, _), (_, count, _, _) in measured.items() if count}
        for b in range(len(ch.filters) + 1):
            if b not in seen:
                measured.setdefault((b, ()), (ZERO, 0, [], []))
        for (bucket, group), (raw_units, count, values, own) in sorted(
                measured.items(), key=lambda kv: (kv[0][0], tuple(x or "" for x in kv[0][1]))):
            if group and not count:
                continue
            units = meters.apply_rounding(metric, raw_units)
            props = ch.properties if bucket == 0 else ch.filters[bucket - 1].properties
            amount = pricing.price(ch.model, props, units, count, values, own, metric.aggregation)
            key = f"{ch.id}:{bucket}"
            if group:
                key += ":" + ",".join(f"{k}={g or ''}" for k, g in zip(ch.group_keys, group, strict=True))
            out.append(Line(invoice_id, key, "charge", ch.id, ch.metric, units, count,
                            round_fee(amount, plan.currency)))
        if ch.min_amount is not None and not progressive:
            # the spending minimum, prorated by days and unrounded, against the charge's rounded
            # fees: a true-up line for the shortfall, rounded (§4; Lago's create_true_up_service,
            # so a shortfall under half a minor unit is a true-up line of 0)
            billed = sum((ln.amount for ln in out if ln.charge_id == ch.id), ZERO)
            minimum = ch.min_amount * p.days / p.full_days
            if billed < minimum:
                out.append(Line(invoice_id, f"{ch.id}:true_up", "charge", ch.id, ch.metric, Decimal(1), 0,
                                round_fee(minimum - billed, plan.currency)))
    return out


def _commitment_line(plan: Plan, p: Period, invoice_id: str, period_fees: Decimal) -> list[Line]:
    """The minimum commitment's true-up: the commitment prorated by days, less the period's fees
    (its subscription fee, charges and charge true-ups), when positive (§4)."""
    if plan.minimum_commitment is None:
        return []
    commitment = round_fee(plan.minimum_commitment * p.days / p.full_days, plan.currency)
    if period_fees >= commitment:
        return []
    return [Line(invoice_id, "commitment", "commitment", None, None, Decimal(1), 0, commitment - period_fees)]


def _progressive(world: World, sub: Subscription, p: Period, events: dict[str, list[Event]], invoiced: Decimal,
                 invoices: list, lines: list) -> Decimal:
    """Adds the period's progressive invoices; returns the latest one's fees (what the closing
    invoice deducts)."""
    plan, cus = world.plans[sub.plan], world.customers[sub.customer]

    def usage_lines(cut: Period, invoice_id: str) -> list[Line]:
        return _charge_lines(world, sub, cut, invoice_id, events, progressive=True)

    def new_invoice(invoice_id: str, at: datetime, pb_lines: list[Line], credit: Decimal) -> None:
        day = at.astimezone(ZoneInfo(cus.timezone)).date()
        fees = sum((ln.amount for ln in pb_lines), ZERO)
        invoices.append(Invoice(invoice_id, sub.id, cus.id, p.start, p.end, day, plan.currency, fees,
                                invoice_type="progressive_billing", progressive_billing_credit_amount=credit,
                                issued_at=at))
        lines.extend(pb_lines)

    _, last_fees = progressive.period_steps(world, sub, p, events, usage_lines, invoiced, new_invoice)
    return last_fees


def rate(world: World) -> tuple[list[Invoice], list[Line]]:
    first = date.fromisoformat(world.months[0] + "-01")
    y, m = map(int, world.months[1].split("-"))
    last = (date(y + m // 12, m % 12 + 1, 1)) - timedelta(days=1)
    by_sub: dict[str, dict[str, list[Event]]] = defaultdict(lambda: defaultdict(list))
    for e in world.events:
        by_sub[e.sub][e.code].append(e)
    invoices, lines = [], []
    for sub in world.subscriptions.values():
        plan = world.plans[sub.plan]
        cus = world.customers[sub.customer]
        ps = periods(sub.started, sub.ending, plan.interval, sub.billing_time, ZoneInfo(cus.timezone),
                     last + timedelta(days=400))
        invoiced = ZERO  # the subscription's charge fees on earlier closing invoices (progressive billing)
        for k, p in enumerate(ps):
            if p.end > last:
                break
            inv_lines: list[Line] = []
            if plan.pay_in_advance and k == 0:
                open_id = f"inv_{sub.id}_{_ymd(p.start)}_open"
                fee = _subscription_fee(world, sub, p)
                lines.append(Line(open_id, f"subscription:{_ymd(p.start)}", "subscription", None, None,
                                  Decimal(1), 0, fee))
                invoices.append(Invoice(open_id, sub.id, cus.id, p.start, p.end, p.start, plan.currency, fee))
            inv_id = f"inv_{sub.id}_{_ymd(p.start)}"
            if plan.pay_in_advance:
                if k + 1 < len(ps):
                    nxt = ps[k + 1]
                    inv_lines.append(Line(inv_id, f"subscription:{_ymd(nxt.start)}", "subscription", None, None,
                                          Decimal(1), 0, _subscription_fee(world, sub, nxt)))
            else:
                inv_lines.append(Line(inv_id, f"subscription:{_ymd(p.start)}", "subscription", None, None,
                                      Decimal(1), 0, _subscription_fee(world, sub, p)))
            charges = _charge_lines(world, sub, p, inv_id, by_sub[sub.id])
            inv_lines += charges
            period_fee = _subscription_fee(world, sub, p)
            inv_lines += _commitment_line(plan, p, inv_id, period_fee + sum((c.amount for c in charges), ZERO))
            fees = sum((ln.amount for ln in inv_lines), ZERO)
            closing = Invoice(inv_id, sub.id, cus.id, p.start, p.end, p.end + timedelta(days=1), plan.currency, fees)
            if plan.thresholds:
                last_pb = _progressive(world, sub, p, by_sub[sub.id], invoiced, invoices, lines)
                charge_fees = sum((c.amount for c in charges), ZERO)
                closing.progressive_billing_credit_amount = min(last_pb, charge_fees)
                invoiced += charge_fees  # Lago: every charge fee, true-ups included (fees.charge)
            invoices.append(closing)
            lines += inv_lines
    credit_invoices, credit_lines = balances.credit_invoices(world, Invoice, Line)
    invoices += credit_invoices
    lines += credit_lines
    invoicing.settle(world, [i for i in invoices if i.invoice_type != "credit"], lines)
    balances.pay_with_wallets(world, invoices)
    # published: the invoices of the periods that end in the run's months (every earlier one is
    # rated too: coupons carry from invoice to invoice)
    keep = {i.invoice_id for i in invoices if first <= i.period_end <= last}
    return [i for i in invoices if i.invoice_id in keep], [ln for ln in lines if ln.invoice_id in keep]
