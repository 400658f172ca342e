"""Charge models, from the reference (lago-semantics.md §3): unrounded amounts in major units.
Input: the bucket's units (after metric rounding), its events count and, for percentage, the
event values in timestamp order its running total reads (every event since the start for a
recurring metric) and the period's own (per-transaction min/max)."""
from __future__ import annotations

import itertools
from decimal import ROUND_CEILING, Decimal

ZERO = Decimal(0)


def _d(x) -> Decimal:
    return ZERO if x is None or x == "" else Decimal(str(x))


def standard(p: dict, units: Decimal, **_) -> Decimal:
    return units * _d(p["amount"])


def package(p: dict, units: Decimal, **_) -> Decimal:
    paid = units - _d(p.get("free_units"))
    if paid <= 0:
        return ZERO
    return (paid / _d(p["package_size"])).to_integral_value(ROUND_CEILING) * _d(p["amount"])


def _tiers(ranges: list[dict], units: Decimal, price_key: str, adjacent_allowed: bool) -> Decimal:
    """Graduated tiers: each tier entered adds its units x price and its flat amount; at 0 units
    the first tier's flat amount is billed."""
    adjacent = adjacent_allowed and len(ranges) >= 2 and all(
        _d(b["from_value"]) == _d(a["to_value"]) for a, b in itertools.pairwise(ranges))
    total = ZERO
    for i, r in enumerate(ranges):
        lo, hi = _d(r["from_value"]), r["to_value"]
        top = units if hi is None or units < _d(hi) else _d(hi)
        tier_units = top if lo == 0 else (top - lo if adjacent else top - lo + 1)
        price = _d(r[price_key])
        if price_key == "rate":
            price = price / 100
        if tier_units != 0 or (i == 0 and units == 0):
            total += tier_units * price + _d(r["flat_amount"])
        if hi is None or _d(hi) >= units:
            break
    return total


def graduated(p: dict, units: Decimal, **_) -> Decimal:
    return _tiers(p["graduated_ranges"], units, "per_unit_amount", adjacent_allowed=True)


def graduated_percentage(p: dict, units: Decimal, **_) -> Decimal:
    return _tiers(p["graduated_percentage_ranges"], units, "rate", adjacent_allowed=False)


def volume(p: dict, units: Decimal, **_) -> Decimal:
    ceiled = units.to_integral_value(ROUND_CEILING)
    for r in p["volume_ranges"]:
        hi = r["to_value"]
        if _d(r["from_value"]) <= ceiled and (hi is None or units <= _d(hi)):
            return units * _d(r["per_unit_amount"]) + _d(r["flat_amount"])
    return ZERO


def running_total(p: dict, aggregation: str, units: Decimal, values: list[Decimal]) -> list[Decimal]:
    """The running total percentage free units read (§2): a count's is 1..count; a sum's the
    cumulative sums of its first free_units_per_events events, else of its events until the
    total passes free_units_per_total_aggregation (the crossing one included); none otherwise."""
    per_events = int(p.get("free_units_per_events") or 0)
    per_total = _d(p.get("free_units_per_total_aggregation"))
    if per_events == 0 and per_total == 0:
        return []
    if aggregation in ("count_agg", "unique_count_agg"):
        # Lago's count and unique_count services: 1..units, whole (not cut at the free units)
        return [Decimal(i) for i in range(1, int(units) + 1)]
    if aggregation != "sum_agg":
        return []
    out: list[Decimal] = []
    acc = ZERO
    for v in values[:per_events] if per_events > 0 else values:
        acc += v
        out.append(acc)
        if per_events == 0 and acc > per_total:
            break
    return out


def _per_transaction(p: dict, values: list[Decimal]) -> Decimal:
    """With a per-transaction min or max (premium): each event priced alone, in time order, after
    the free events and free amount, then clamped to [min, max] (§3 percentage)."""
    free_events = int(p.get("free_units_per_events") or 0)
    free_amount = _d(p.get("free_units_per_total_aggregation"))
    low, high = p.get("per_transaction_min_amount"), p.get("per_transaction_max_amount")
    total = ZERO
    for value in values:
        if free_events > 0 or free_amount > 0:
            free_events -= 1
            if free_amount <= 0:
                continue
            if free_amount > value:
                free_amount -= value
                continue
            value, free_amount, free_events = value - free_amount, ZERO, 0
        amount = value * _d(p["rate"]) / 100 + _d(p.get("fixed_amount"))
        if low is not None and amount < _d(low):
            amount = _d(low)
        elif high is not None and amount > _d(high):
            amount = _d(high)
        total += amount
    return total


def percentage(p: dict, units: Decimal, events_count: int, values: list[Decimal], own: list[Decimal],
               aggregation: str, **_) -> Decimal:
    if p.get("per_transaction_min_amount") is not None or p.get("per_transaction_max_amount") is not None:
        return _per_transaction(p, own)
    per_events = int(p.get("free_units_per_events") or 0)
    per_total = _d(p.get("free_units_per_total_aggregation"))
    rt = running_total(p, aggregation, units, values)
    last = rt[-1] if rt else ZERO
    if last == 0:
        free_value = ZERO
    elif 0 < per_events < len(rt):
        free_value = rt[per_events - 1]
    elif per_total == 0 or last <= per_total:
        free_value = last
    else:
        free_value = per_total
    counts = [c for c in (per_events, sum(1 for x in rt if x < per_total)) if c != 0]
    free_events = min(counts) if counts else 0
    amount = ZERO if free_value > units else (units - free_value) * _d(p["rate"]) / 100
    fixed = _d(p.get("fixed_amount"))
    if units != 0 and free_events < events_count:
        amount += (events_count - free_events) * fixed
    return amount


MODELS = {"standard": standard, "package": package, "graduated": graduated, "volume": volume,
          "percentage": percentage, "graduated_percentage": graduated_percentage}


def price(model: str, properties: dict, units: Decimal, events_count: int, values: list[Decimal],
          own: list[Decimal], aggregation: str) -> Decimal:
    return MODELS[model](properties, units, events_count=events_count, values=values, own=own,
                         aggregation=aggregation)
