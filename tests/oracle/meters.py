"""Billable-metric aggregations (lago-semantics.md §2) over one price bucket's events, and the
routing of an event to its charge filter and pricing group (§1)."""
from __future__ import annotations

from datetime import timedelta
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal

from tests.oracle.model import Charge, Event, Metric
from tests.oracle.periods import Period

ZERO = Decimal(0)
ALL = "__ALL_FILTER_VALUES__"


def _matches(values: dict[str, list[str]], props: dict) -> bool:
    return all(k in props and (ALL in vs or str(props[k]) in vs) for k, vs in values.items())


def _narrower(a: dict[str, list[str]], b: dict[str, list[str]]) -> bool:
    """Filter a is a strict refinement of b: every key of b, with values within b's."""
    if a == b or not set(b) <= set(a):
        return False
    return all(ALL in b[k] or (ALL not in a[k] and set(a[k]) <= set(b[k])) for k in b)


def bucket_of(charge: Charge, props: dict) -> int:
    """0 = the default bucket; i = the charge's i-th filter (1-based), the most specific that matches."""
    hits = [i for i, f in enumerate(charge.filters, start=1) if _matches(f.values, props)]
    hits = [i for i in hits if not any(_narrower(charge.filters[j - 1].values, charge.filters[i - 1].values)
                                       for j in hits if j != i)]
    return min(hits) if hits else 0


def group_of(charge: Charge, props: dict) -> tuple:
    return tuple(None if props.get(k) is None else str(props[k]) for k in charge.group_keys)


def value(metric: Metric, ev: Event) -> Decimal:
    return Decimal(str(ev.properties[metric.field_name]))


def _order(ev: Event) -> tuple:
    return ev.at, ev.file, ev.line


def _seconds(span: timedelta) -> Decimal:
    """Exact, to the microsecond (timestamps may carry fractions of a second)."""
    return Decimal(span // timedelta(microseconds=1)) / 1_000_000


def apply_rounding(metric: Metric, units: Decimal) -> Decimal:
    if not metric.rounding_function:
        return units
    mode = {"round": ROUND_HALF_UP, "ceil": ROUND_CEILING, "floor": ROUND_FLOOR}[metric.rounding_function]
    return units.quantize(Decimal(1).scaleb(-(metric.rounding_precision or 0)), rounding=mode)


def aggregate(metric: Metric, events: list[Event], period: Period) -> tuple[Decimal, int, list[Decimal], list[Decimal]]:
    """(units before rounding, events count, the values the window reads, the period's values),
    values in timestamp order, of one bucket and group. `events` are all the subscription's
    events of that bucket and group, any time. Percentage's running total (free units) reads the
    window's values; its per-transaction min/max the period's (Lago's per-event aggregation
    forces the period's lower bound)."""
    inside = sorted((e for e in events if period.from_at <= e.at < period.to_at), key=_order)
    before = sorted((e for e in events if e.at < period.from_at), key=_order)
    agg = metric.aggregation
    # recurring sums and unique counts read every event up to the period's end (no lower bound),
    # so their events count is cumulative too
    cumulative = metric.recurring and agg in ("sum_agg", "unique_count_agg")
    count = len(inside) + (len(before) if cumulative else 0)
    # the values percentage prices: the events the window reads (all since the start if cumulative)
    read = (before + inside) if cumulative else inside
    numeric = metric.field_name and agg != "unique_count_agg"
    values = [value(metric, e) for e in read] if numeric else []
    # a count's event is worth 1 to per-transaction pricing (Lago count/unique_count per-event aggregation)
    own = [value(metric, e) for e in inside] if numeric else [Decimal(1)] * len(inside)
    if agg == "count_agg":
        return Decimal(count), count, values, own
    if agg == "sum_agg":
        return sum(values, ZERO), count, values, own
    if agg == "max_agg":
        return (max(values) if values else ZERO), count, values, own
    if agg == "latest_agg":
        return (max(values[-1], ZERO) if values else ZERO), count, values, own
    if agg == "unique_count_agg":
        last: dict[str, str] = {}
        for e in (before if metric.recurring else []) + inside:
            last[str(e.properties[metric.field_name])] = e.properties.get("operation_type", "add")
        return Decimal(sum(1 for op in last.values() if op == "add")), count, values, own
    if agg == "weighted_sum_agg":
        level = sum((value(metric, e) for e in before), ZERO) if metric.recurring else ZERO
        acc, t = ZERO, period.from_at
        for e in inside:
            v = value(metric, e)
            acc += level * _seconds(e.at - t)
            level, t = level + v, e.at
        acc += level * _seconds(period.to_at - t)
        # Lago's weighted_sum_service: result.ceil(20)
        units = (acc / (period.full_days * 86400)).quantize(Decimal('1e-20'), rounding=ROUND_CEILING)
        return units, count, values, own
    raise ValueError(agg)
