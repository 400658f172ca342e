"""Several worlds billed by one `tally run`: every id of a world gets the world's prefix, so the
worlds share nothing but their default taxes (applied_by_default: every world's apply to all),
and the fixed cost of a run is paid once."""
from __future__ import annotations

from dataclasses import replace

from tests.oracle.model import World


def prefixed(w: World, p: str) -> World:
    def codes(xs: list[str]) -> list[str]:
        return [p + x for x in xs]

    metrics = {p + k: replace(m, code=p + m.code) for k, m in w.metrics.items()}
    plans = {}
    for k, plan in w.plans.items():
        charges = [replace(c, id=p + c.id, plan=p + c.plan, metric=p + c.metric, tax_codes=codes(c.tax_codes))
                   for c in plan.charges]
        plans[p + k] = replace(plan, code=p + plan.code, charges=charges, tax_codes=codes(plan.tax_codes))
    return World(
        w.seed, w.months,
        {p + k: replace(c, id=p + c.id, tax_codes=codes(c.tax_codes)) for k, c in w.customers.items()},
        metrics, plans,
        {p + k: replace(s, id=p + s.id, customer=p + s.customer, plan=p + s.plan) for k, s in w.subscriptions.items()},
        [replace(e, tid=p + e.tid, sub=p + e.sub, code=p + e.code) for e in w.events],
        {p + k: replace(t, code=p + t.code) for k, t in w.taxes.items()},
        {p + k: replace(c, code=p + c.code) for k, c in w.coupons.items()},
        [replace(a, coupon=p + a.coupon, customer=p + a.customer) for a in w.applied_coupons],
        [replace(x, id=p + x.id, customer=p + x.customer) for x in w.wallets],
        [replace(t, wallet=p + t.wallet) for t in w.wallet_transactions],
    )


def merged(worlds: dict[str, World]) -> World:
    """The union of the worlds, each under its prefix (they must share their months)."""
    parts = [prefixed(w, p) for p, w in worlds.items()]
    first = parts[0]
    out = World(first.seed, first.months, {}, {}, {}, {}, [])
    for w in parts:
        assert w.months == out.months
        out.customers |= w.customers
        out.metrics |= w.metrics
        out.plans |= w.plans
        out.subscriptions |= w.subscriptions
        out.events += w.events
        out.taxes |= w.taxes
        out.coupons |= w.coupons
        out.applied_coupons += w.applied_coupons
        out.wallets += w.wallets
        out.wallet_transactions += w.wallet_transactions
    return out
