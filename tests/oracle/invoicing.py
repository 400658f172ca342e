"""From fees to totals (lago-semantics.md §6, §8): coupons in order on what earlier ones left,
spread over the fees pro rata; taxes per fee on the fee less its coupon share, the rates of the
first level that has any (charge, plan, customer, default); the invoice's tax is the rounded sum
of the unrounded fee taxes."""
from __future__ import annotations

import math
from collections import defaultdict
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from zoneinfo import ZoneInfo

from tests.oracle.model import World
from tests.oracle.periods import local_midnight

ZERO = Decimal(0)
MINOR = {"USD": 2, "JPY": 0, "KWD": 3}


def to_minor(amount: Decimal, currency: str) -> Decimal:
    return amount.quantize(Decimal(1).scaleb(-MINOR[currency]), rounding=ROUND_HALF_UP)


def share(num: Fraction, den: Fraction, currency: str) -> Fraction:
    """A fee's share of a coupon or progressive credit, num / den rounded half-up to 5 decimals
    of the minor unit: Lago keeps it in fees.precise_coupons_amount_cents, a decimal(30, 5) of
    cents (credits/applied_coupon_service, credits/progressive_billing_service)."""
    unit = Fraction(1, 10 ** (MINOR[currency] + 5))
    return math.floor(num / den / unit + Fraction(1, 2)) * unit


def _round_tax(x: Fraction, currency: str) -> Decimal:
    """Half-up (x >= 0) to the currency's minor unit, exactly, once (Lago: `.round` of the
    unrounded fee or invoice tax)."""
    return Decimal(math.floor(x * 10 ** MINOR[currency] + Fraction(1, 2))).scaleb(-MINOR[currency])


def issued(world: World, inv) -> datetime:
    """When an invoice is issued: a progressive one at its step, the others at local midnight."""
    return inv.issued_at or local_midnight(inv.issuing_date, ZoneInfo(world.customers[inv.customer].timezone))


def tax_rates(world: World, line, customer: str, plan_code: str) -> tuple[Decimal, ...]:
    plan = world.plans[plan_code]
    levels = [plan.tax_codes, world.customers[customer].tax_codes,
              [t.code for t in world.taxes.values() if t.applied_by_default]]
    if line.fee_type == "charge":
        charge = next(c for c in plan.charges if c.id == line.charge_id)
        levels.insert(0, charge.tax_codes)
    codes = next((lv for lv in levels if lv), [])
    return tuple(world.taxes[c].rate for c in codes)


class _CouponState:
    def __init__(self, coupon):
        self.coupon = coupon
        self.remaining = coupon.amount  # fixed once: what is left of the budget
        self.uses = coupon.frequency_duration if coupon.frequency == "recurring" else None
        self.done = False

    def take(self, base: Decimal, currency: str) -> Decimal:
        c = self.coupon
        if c.coupon_type == "percentage":
            amount = min(to_minor(base * c.percentage_rate / 100, currency), base)
        elif c.frequency == "once":
            amount = min(self.remaining, base)
            self.remaining -= amount
        else:
            amount = min(c.amount, base)
        if c.frequency == "once" and (c.coupon_type == "percentage" or self.remaining <= 0):
            self.done = True
        if self.uses is not None:
            self.uses -= 1
            self.done = self.uses <= 0
        return amount


def settle(world: World, invoices: list, lines: list) -> None:
    """Sets coupons_amount and taxes_amount on every invoice, taxes_amount on every line."""
    by_invoice = defaultdict(list)
    for ln in lines:
        by_invoice[ln.invoice_id].append(ln)
    applied = defaultdict(list)
    for a in world.applied_coupons:
        applied[a.customer].append(a)
    states = {id(a): _CouponState(world.coupons[a.coupon]) for a in world.applied_coupons}
    for inv in sorted(invoices, key=lambda i: (i.customer, issued(world, i), i.invoice_id)):
        inv_lines = by_invoice[inv.invoice_id]
        coupons = ZERO
        # an invoice is issued at local midnight of its issuing day; a coupon applied on a day
        # (a date: midnight UTC) applies to the invoices issued from then on
        issued_at = issued(world, inv)
        if inv.fees_amount > 0:
            for a in sorted(applied[inv.customer], key=lambda a: a.applied_at):
                st = states[id(a)]
                if st.done or issued_at < datetime(*a.applied_at.timetuple()[:3], tzinfo=UTC):
                    continue
                base = inv.fees_amount - inv.progressive_billing_credit_amount - coupons
                if base <= 0:
                    break
                coupons += st.take(base, inv.currency)
        inv.coupons_amount = coupons
        plan = world.subscriptions[inv.subscription].plan
        # exact rationals from the rounded shares on: the invoice's tax can be exactly half a
        # minor unit, which any other finite precision may miss
        total_tax = Fraction(0)
        credit = Fraction(inv.progressive_billing_credit_amount)
        charge_fees = sum((Fraction(ln.amount) for ln in inv_lines if ln.fee_type == "charge"), Fraction(0))
        base = Fraction(inv.fees_amount) - credit
        for ln in inv_lines:
            # the progressive credit over the charge fees, then the coupons (all of them at once)
            # over what is left, pro rata
            amount = Fraction(ln.amount)
            pb_share = share(credit * amount, charge_fees, inv.currency) \
                if ln.fee_type == "charge" and charge_fees and credit else Fraction(0)
            coupon_share = share(Fraction(coupons) * (amount - pb_share), base, inv.currency) \
                if base > 0 and coupons else Fraction(0)
            ln.tax_rates = tax_rates(world, ln, inv.customer, plan)
            tax = sum(((amount - pb_share - coupon_share) * Fraction(r) / 100 for r in ln.tax_rates), Fraction(0))
            ln.coupon_share, ln.precise_taxes_amount = pb_share + coupon_share, tax
            ln.taxes_amount = _round_tax(tax, inv.currency)
            total_tax += tax
        inv.precise_taxes_amount = total_tax
        inv.taxes_amount = _round_tax(total_tax, inv.currency)
