"""A random billing world from a seed: customers, metrics, plans and charges, subscriptions and
their events, and the catalog CSVs and JSONL landing files that give it to `tally run`.

The world leans on the edges: events on period boundaries (local midnight, the second before),
on daylight-saving changes, month ends in UTC vs local time; anniversary days, trials, partial
periods; three currencies with 0, 2 and 3 decimals. Everything is drawn from one
`random.Random(seed)`, so a seed replays the world exactly. files.py writes it for `tally run`."""
from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from tests.oracle.model import (
    AppliedCoupon,
    Charge,
    ChargeFilter,
    Coupon,
    Customer,
    Event,
    Metric,
    Plan,
    Subscription,
    Tax,
    Wallet,
    WalletTransaction,
    World,
)
from tests.oracle.periods import periods

CURRENCIES = {"USD": 2, "JPY": 0, "KWD": 3}
# zones with and without daylight saving, both hemispheres, half-hour offsets
TIMEZONES = ["UTC", "America/New_York", "Europe/Paris", "Asia/Tokyo", "Asia/Kolkata", "Australia/Sydney",
             "America/Los_Angeles", "Pacific/Auckland", "America/St_Johns"]
FIRST_MONTH, LAST_MONTH = (2026, 1), (2026, 5)
REGIONS = ["eu", "us", "apac"]
TIERS = ["gold", "silver"]
ALL = "__ALL_FILTER_VALUES__"


TAXES = [Tax("t_ca", Decimal("7.25")), Tax("t_ny", Decimal("8.875")), Tax("t_jp", Decimal(10)),
         Tax("t_eu", Decimal(20)), Tax("t_def", Decimal("5.5"), applied_by_default=True)]
COUPONS = [Coupon("pct10_once", "percentage", None, Decimal(10), "once"),
           Coupon("pct15_rec3", "percentage", None, Decimal("15.5"), "recurring", 3),
           Coupon("pct5_forever", "percentage", None, Decimal(5), "forever")]


def _coupons() -> dict[str, Coupon]:
    """The percentage coupons, and fixed ones per currency (a fixed amount is in the invoice's currency)."""
    out = {c.code: c for c in COUPONS}
    for cur, amount in (("USD", "50.00"), ("JPY", "3000"), ("KWD", "12.345")):
        for freq, dur in (("once", None), ("recurring", 2), ("forever", None)):
            code = f"fix_{cur.lower()}_{freq}"
            out[code] = Coupon(code, "fixed_amount", Decimal(amount), None, freq, dur)
    return out


def _tax_codes(rng: random.Random, p: float) -> list[str]:
    if rng.random() >= p:
        return []
    return rng.sample(["t_ca", "t_ny", "t_jp", "t_eu"], rng.choice([1, 1, 2]))


def _metrics() -> dict[str, Metric]:
    ms = [
        Metric("m_count", "count_agg"),
        Metric("m_sum", "sum_agg", "v", filters={"region": REGIONS, "tier": TIERS}),
        Metric("m_sum_rec", "sum_agg", "v", recurring=True),
        Metric("m_sum_ceil", "sum_agg", "v", rounding_function="ceil", rounding_precision=1),
        Metric("m_max", "max_agg", "v"),
        Metric("m_max_round", "max_agg", "v", rounding_function="round", rounding_precision=-1),
        Metric("m_latest", "latest_agg", "v"),
        Metric("m_uniq", "unique_count_agg", "uid"),
        Metric("m_uniq_rec", "unique_count_agg", "uid", recurring=True),
        Metric("m_ws", "weighted_sum_agg", "v"),
        Metric("m_ws_rec", "weighted_sum_agg", "v", recurring=True),
        Metric("m_count_f", "count_agg", filters={"region": REGIONS}),
    ]
    return {m.code: m for m in ms}


def _money(rng: random.Random, low: str, high: str, places: int) -> Decimal:
    lo, hi = int(Decimal(low) * 10 ** places), int(Decimal(high) * 10 ** places)
    return Decimal(rng.randint(lo, hi)).scaleb(-places)


def _price(rng: random.Random) -> str:
    """A unit price, sometimes with more decimals than any currency (rounding happens per fee)."""
    return str(_money(rng, "0", "3", rng.choice([0, 2, 3, 4])))


def _ranges(rng: random.Random, model: str) -> list[dict]:
    """Contiguous integer ranges starting at 0 (or 1 for graduated); graduated ranges are either
    adjacent (from = previous to) or Lago's +1 steps."""
    n = rng.randint(1, 4)
    adjacent = model == "graduated" and rng.random() < 0.4
    start = 1 if model == "graduated" and not adjacent and rng.random() < 0.2 else 0
    out, lo = [], start
    for i in range(n):
        last = i == n - 1
        hi = None if last else lo + rng.randint(1, 400)
        r = {"from_value": lo, "to_value": hi, "flat_amount": str(_money(rng, "0", "20", 2))
             if rng.random() < 0.4 else "0"}
        if model == "graduated_percentage":
            r["rate"] = str(_money(rng, "0", "5", 2))
        else:
            r["per_unit_amount"] = _price(rng)
        out.append(r)
        if not last:
            lo = hi if adjacent else hi + 1
    return out


# charge models a metric may take (Lago refuses percentage on latest_agg)
MODELS = ["standard", "graduated", "volume", "package", "percentage", "graduated_percentage"]
MODELS_OF = {agg: [m for m in MODELS if (agg, m) != ("latest_agg", "percentage")]
             for agg in ("count_agg", "sum_agg", "max_agg", "latest_agg", "unique_count_agg", "weighted_sum_agg")}


def _models(metric: Metric) -> list[str]:
    """Every model Lago allows on the metric, percentage on a recurring metric included: its free
    units read every event since the start, its per-transaction bounds the period's events
    (found by seed 2: Tally read the period's events only)."""
    return MODELS_OF[metric.aggregation]


def _properties(rng: random.Random, model: str, aggregation: str = "sum_agg") -> dict:
    if model == "standard":
        return {"amount": _price(rng)}
    if model == "package":
        return {"amount": str(_money(rng, "0", "50", 2)), "package_size": rng.choice([1, 2, 10, 100]),
                "free_units": rng.choice([0, 0, 1, 5, 50])}
    if model == "percentage":
        p = {"rate": str(_money(rng, "0", "5", rng.choice([1, 2, 3])))}
        if rng.random() < 0.5:
            p["fixed_amount"] = str(_money(rng, "0", "2", 2))
        # free units on every aggregation: a count's running total is 1..units (found by seed 3:
        # Tally had running totals for sums only)
        if rng.random() < 0.4:
            p["free_units_per_events"] = rng.randint(1, 4)
        if rng.random() < 0.4:
            p["free_units_per_total_aggregation"] = str(_money(rng, "1", "300", 1))
        if aggregation == "sum_agg" and rng.random() < 0.4:  # per-transaction bounds: sums only
            low = _money(rng, "0", "2", 2)
            if rng.random() < 0.7:
                p["per_transaction_min_amount"] = str(low)
            if rng.random() < 0.7:
                p["per_transaction_max_amount"] = str(low + _money(rng, "0", "5", 2))
        return p
    key = {"graduated": "graduated_ranges", "volume": "volume_ranges",
           "graduated_percentage": "graduated_percentage_ranges"}[model]
    return {key: _ranges(rng, model)}


def _charge_filters(rng: random.Random, metric: Metric, model: str) -> list[ChargeFilter]:
    """Filters that never overlap except as strict refinements (a narrower filter wins)."""
    if not metric.filters or rng.random() < 0.3:
        return []
    choices = [[{"region": ["eu"]}, {"region": ["us", "apac"]}], [{"region": ["us"]}]]
    if "tier" in metric.filters:
        choices += [[{"region": ["eu"]}, {"region": ["eu"], "tier": ["gold"]}],
                    [{"tier": [ALL]}, {"tier": ["gold"], "region": ["apac"]}]]
    return [ChargeFilter(v, _properties(rng, model, metric.aggregation)) for v in rng.choice(choices)]


# Progressive billing (usage thresholds) is generated on plans whose usage only grows within a
# period and starts at 0: non-recurring counts, sums of non-negative values and maxima, priced by
# standard, package or flat-free graduated charges. Left out so far: recurring metrics (carried
# usage at a period's start), latest and unique counts (usage that falls), first-tier flats,
# volume and percentage charges.
PROGRESSIVE_METRICS = ["m_count", "m_count_f", "m_max", "m_max_round", "m_sum", "m_sum_ceil"]
PROGRESSIVE_MODELS = ["standard", "package", "graduated"]


def _thresholds(rng: random.Random) -> list[tuple[Decimal, bool]]:
    fixed = sorted(rng.sample([Decimal(x) for x in ("20", "50", "200", "500", "1000")], rng.randint(0, 2)))
    out = [(a, False) for a in fixed]
    if not fixed or rng.random() < 0.6:
        out.append((Decimal(rng.choice(["100", "250", "400"])), True))
    return out


def _plans(rng: random.Random, metrics: dict[str, Metric], count: int) -> dict[str, Plan]:
    plans = {}
    for i in range(count):
        cur = rng.choice(sorted(CURRENCIES))
        places = CURRENCIES[cur]
        amount = _money(rng, "0", "500", places) if rng.random() < 0.9 else Decimal(0)
        interval = rng.choices(["monthly", "weekly", "quarterly", "yearly"], [6, 1, 2, 1])[0]
        plan = Plan(f"p{i:03d}", interval, amount, cur, pay_in_advance=rng.random() < 0.3,
                    trial_days=rng.choice([0, 0, 0, 7, 14, 45]))
        if rng.random() < 0.3:
            plan.minimum_commitment = _money(rng, "0", "2000", places)
        plan.tax_codes = _tax_codes(rng, 0.2)
        choices = sorted(metrics)
        if rng.random() < 0.2:
            plan.thresholds = _thresholds(rng)
            choices = PROGRESSIVE_METRICS
        for j, code in enumerate(rng.sample(choices, rng.randint(1, 4))):
            m = metrics[code]
            model = rng.choice(_models(m) if not plan.thresholds else PROGRESSIVE_MODELS)
            props = _properties(rng, model, m.aggregation)
            if plan.thresholds and model == "graduated":
                for r in props["graduated_ranges"]:
                    r["flat_amount"] = "0"
            filters = _charge_filters(rng, m, model)
            keys = []
            if rng.random() < 0.2 and m.aggregation != "weighted_sum_agg":
                keys = ["project"]
                props["pricing_group_keys"] = keys
            # charge minimums also on plans with usage thresholds: their true-ups count in later
            # periods' lifetime usage (seed 11, sub_00057: a February true-up of 177.78 brings the
            # recurring level 800 forward from March 12 to March 1)
            minimum = _money(rng, "0", "300", places) if rng.random() < 0.25 else None
            plan.charges.append(Charge(f"c{i:03d}_{j}", plan.code, code, model, props, filters, keys, minimum,
                                       _tax_codes(rng, 0.15)))
        plans[plan.code] = plan
    return plans


def _wallets(rng: random.Random, cus: Customer, start: date, wallets: list, transactions: list) -> None:
    """One or two prepaid-credit wallets: priorities, expirations, purchases and grants at
    random instants around the subscription's life (some at local midnight, when invoices issue)."""
    tz = ZoneInfo(cus.timezone)
    for k in range(rng.choice([1, 1, 2])):
        expires = None
        if rng.random() < 0.3:
            expires = datetime(2026, rng.randint(2, 5), rng.randint(1, 28), tzinfo=tz).astimezone(UTC)
        w = Wallet(f"w_{cus.id}_{k}", cus.id, cus.currency, Decimal(rng.choice(["0.01", "1", "0.155", "0.5", "2"])),
                   rng.choice([None, 1, 5, 50]), expires)
        wallets.append(w)
        for _ in range(rng.randint(1, 3)):
            day = start + timedelta(days=rng.randint(-10, 100))
            at = datetime(day.year, day.month, day.day, tzinfo=tz)
            if rng.random() < 0.7:
                at += timedelta(seconds=rng.randrange(86400))
            at = at.astimezone(UTC)
            if expires is not None and at >= expires:  # the catalog refuses credits on an expired wallet
                at = expires - timedelta(seconds=rng.randint(1, 20 * 86400))
            credits = Decimal(rng.randint(1, 5000)) if rng.random() < 0.7 else _money(rng, "0.01", "999", 2)
            transactions.append(WalletTransaction(w.id, credits, rng.choice(["purchased", "granted"]), at))


def _instants(rng: random.Random, tz: ZoneInfo, start: date, end: date) -> list[datetime]:
    """Awkward instants between two local dates: local midnights and the second before, DST
    changes, UTC month ends, plus uniform ones."""
    out = []
    d = start
    while d <= end:
        if d.day == 1 or d == start or rng.random() < 0.02:
            mid = datetime(d.year, d.month, d.day, tzinfo=tz).astimezone(UTC)
            out += [mid, mid - timedelta(seconds=1), mid + timedelta(seconds=1)]
        if d.day == 1:
            utc_mid = datetime(d.year, d.month, d.day, tzinfo=UTC)
            out += [utc_mid, utc_mid - timedelta(seconds=1)]
        d += timedelta(days=1)
    # DST changes in the window: the instants where the UTC offset changes
    t = datetime(start.year, start.month, start.day, tzinfo=tz).astimezone(UTC)
    # the next local midnight: a day of a DST change is 23 or 25 hours long (seed 270359984: a
    # subscription ending on 2026-03-08 in New York got events in the hour after its end)
    after = end + timedelta(days=1)
    stop = datetime(after.year, after.month, after.day, tzinfo=tz).astimezone(UTC)
    while t < stop:
        nxt = t + timedelta(hours=1)
        if t.astimezone(tz).utcoffset() != nxt.astimezone(tz).utcoffset():
            out += [nxt - timedelta(seconds=1), nxt, nxt + timedelta(minutes=30)]
        t = nxt
    lo = datetime(start.year, start.month, start.day, tzinfo=tz).astimezone(UTC)
    span = int((stop - lo).total_seconds())
    # uniform ones, some with a fraction of a second (whole milliseconds: Lago's period ends at .999)
    out += [lo + timedelta(seconds=rng.randrange(span), milliseconds=rng.choice([0, 0, 0, 250, 500, 999]))
            for _ in range(len(out) * 2 + 10)]
    return [x for x in out if lo <= x < stop]


def _value(rng: random.Random) -> str | int:
    if rng.random() < 0.5:
        return rng.randint(0, 300)
    return str(_money(rng, "0", "300", rng.choice([1, 2, 3])))


def _events(rng: random.Random, sub: Subscription, tz: ZoneInfo, plan: Plan, metrics: dict[str, Metric],
            window_end: date) -> list[Event]:
    end = min(sub.ending or window_end, window_end)
    instants = _instants(rng, tz, sub.started, end)
    sub_periods = periods(sub.started, sub.ending, plan.interval, sub.billing_time, tz, end)
    events: list[Event] = []
    n = 0
    for ch in plan.charges:
        m = metrics[ch.metric]
        picked = rng.sample(instants, min(len(instants), rng.randint(0, 14)))
        if m.aggregation == "latest_agg" and len(picked) > 1 and rng.random() < 0.3:
            picked[1] = picked[0]  # two values at one instant: the later file, then line, wins (decision 7)
        for at in picked:
            props: dict = {}
            if m.aggregation == "unique_count_agg":
                props["uid"] = f"u{rng.randint(1, 6)}"
                if rng.random() < 0.3:
                    props["operation_type"] = "remove"
            elif m.field_name:
                props[m.field_name] = _value(rng)
            if m.filters and rng.random() < 0.85:
                props["region"] = rng.choice(REGIONS)
                if "tier" in m.filters and rng.random() < 0.6:
                    props["tier"] = rng.choice(TIERS)
            if ch.group_keys and rng.random() < 0.9:
                props["project"] = rng.choice(["alpha", "beta", "gamma"])
            n += 1
            events.append(Event(f"{sub.id}_e{n}", sub.id, m.code, at, props))
            if m.aggregation == "weighted_sum_agg" and rng.random() < 0.5:
                # a level that goes down again later in the same period: never below zero
                # (Tally's usage gate refuses negative meters; Lago would clamp the fee)
                p = next(p for p in sub_periods if p.from_at <= at < p.to_at)
                later = [x for x in instants if at < x < p.to_at]
                if later:
                    n += 1
                    down = {**props, m.field_name: f"-{props[m.field_name]}"}
                    events.append(Event(f"{sub.id}_e{n}", sub.id, m.code, rng.choice(later), down))
    return events


def generate_world(seed: int, subscriptions: int = 2000, plans: int = 40) -> World:
    rng = random.Random(seed)
    metrics = _metrics()
    plan_map = _plans(rng, metrics, plans)
    by_currency: dict[str, list[Plan]] = {}
    for p in plan_map.values():
        by_currency.setdefault(p.currency, []).append(p)
    customers, subs, events, applied, wallets, transactions = {}, {}, [], [], [], []
    coupons = _coupons()
    window_end = date(LAST_MONTH[0], LAST_MONTH[1], 31)
    for i in range(subscriptions):
        cur = rng.choice(sorted(by_currency))
        cus = Customer(f"cus_{i:05d}", cur, rng.choice(TIMEZONES), _tax_codes(rng, 0.4))
        customers[cus.id] = cus
        plan = rng.choice(by_currency[cur])
        billing_time = rng.choice(["calendar", "anniversary"])
        start = date(2026, 1, 1) + timedelta(days=rng.randint(0, 70))
        if rng.random() < 0.1:
            start = date(2026, rng.randint(1, 3), 1) - timedelta(days=rng.randint(1, 3))  # 29th-31st
        ending = None
        if rng.random() < (0.6 if plan.interval == "yearly" else 0.15):
            ending = start + timedelta(days=rng.randint(20, 120))
        sub = Subscription(f"sub_{i:05d}", cus.id, plan.code, start, ending, billing_time)
        subs[sub.id] = sub
        usable = [c.code for c in coupons.values()
                  if c.coupon_type == "percentage" or c.code.startswith(f"fix_{cur.lower()}_")]
        coupons_of_customer = rng.sample(usable, rng.choice([0, 0, 0, 1, 1, 2]))  # each applies once per customer
        for code in coupons_of_customer:
            applied.append(AppliedCoupon(code, cus.id, start + timedelta(days=rng.randint(-5, 80))))
        if rng.random() < 0.2:
            _wallets(rng, cus, start, wallets, transactions)
        events += _events(rng, sub, ZoneInfo(cus.timezone), plan, metrics, window_end)
    rng.shuffle(events)
    months = (f"{FIRST_MONTH[0]}-{FIRST_MONTH[1]:02d}", f"{LAST_MONTH[0]}-{LAST_MONTH[1]:02d}")
    return World(seed, months, customers, metrics, plan_map, subs, events, {t.code: t for t in TAXES}, coupons,
                 applied, wallets, transactions)
