"""Deterministic demo landing data for Tally (see seeds/README.md).

    python -m seeds.generate_demo --out seeds/landing [--seed 42] [--customers-scale 1.0]

Reads the pricing catalog in ``seeds/catalog/`` and writes the usage events of the demo
months (2026-09 .. 2026-11) into ``--out``:

- ``events_2026-09.parquet``, ``events_2026-10.parquet``, ``events_2026-11.parquet`` — the bulk,
  one file per billing month (local month of the customer), ``timestamp`` a Parquet
  TIMESTAMP (UTC), ``properties`` JSON text;
- ``late_and_misc.jsonl`` — late arrivals, edge cases and most of the bad events;
- ``partner_upload.csv`` — token and seat usage of the JPY customers, uploaded by a reseller,
  plus a few bad rows.

The output is a pure function of the catalog, ``--seed`` and ``--customers-scale``: no clock
reads, one ``random.Random`` stream per subscription, sorted output, Parquet written without
timestamps, so two runs give byte-identical files.

``--customers-scale`` below 1 keeps only the first customers of the catalog; above 1 it adds
clones of the catalog customers (``cus_001_x2`` ...) and then needs ``--catalog-out DIR``, where
the matching catalog (customers and subscriptions extended, other files copied) is written.
"""

from __future__ import annotations

import argparse
import bisect
import csv
import json
import math
import random
import shutil
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pyarrow as pa
import pyarrow.parquet as pq

CATALOG_DIR = Path(__file__).resolve().parent / "catalog"
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
ONE_MICROSECOND = timedelta(microseconds=1)
TIMESTAMP_TYPE = pa.timestamp("us", tz="UTC")  # Parquet TIMESTAMP(isAdjustedToUTC=true, MICROS)

DEMO_FIRST_DAY = date(2026, 9, 1)
DEMO_LAST_DAY = date(2026, 11, 30)
DEMO_MONTHS = ((2026, 9), (2026, 10), (2026, 11))

PARQUET_FILES = {m: f"events_{m[0]:04d}-{m[1]:02d}.parquet" for m in DEMO_MONTHS}
JSONL_FILE = "late_and_misc.jsonl"
CSV_FILE = "partner_upload.csv"
# Every file this script writes into --out; nothing else there is touched.
BULK_FILE = "events_bulk_2026-11.parquet"  # only with --bulk-events N (DEMO_EVENTS=N make demo)
OUTPUT_FILES = (*PARQUET_FILES.values(), JSONL_FILE, CSV_FILE, BULK_FILE)

EVENT_COLUMNS = (
    "transaction_id",
    "external_customer_id",
    "external_subscription_id",
    "code",
    "timestamp",
    "properties",
)
# Lago's event field for the `dynamic` charge model: the event's own price, in cents (a decimal)
PRECISE_AMOUNT = "precise_total_amount_cents"

# Monthly API-call volumes (Sep, Oct, Nov) for named customers; everyone else is drawn at random.
# Starter and Team include 10,000 calls a month: cus_003 and cus_017 are always above, cus_022 only
# in October, cus_090 (JPY) only in November; everyone else stays well below.
API_CALL_TARGETS = {
    "cus_003": (10_400, 10_900, 10_600),
    "cus_017": (10_300, 12_000, 11_200),
    "cus_022": (2_500, 10_800, 2_400),
    "cus_090": (1_800, 2_600, 10_300),
    # the money features of the demo: a credit pack drawn down, an annual minimum, thresholds
    "cus_101": (1_500, 800, 1_200),
    "cus_102": (30_000, 30_000, 30_000),
    "cus_103": (12_000, 15_000, 9_000),
}
# Monthly token volumes for named customers (cus_017 crosses the 10M tier of Starter).
TOKEN_TARGETS = {"cus_003": 4_000_000, "cus_017": 14_000_000, "cus_011": 600_000}

# Metrics each plan's customers send (the metrics the plan charges for).
PLAN_METRICS = {
    "starter_usd": ("api_calls", "tokens"),
    "pro_usd": ("api_calls", "tokens", "gpus", "seats", "storage_gb", "partner_model_spend",
                "fine_tuned_models"),
    "dev_weekly_usd": ("api_calls", "tokens"),
    "enterprise_usd_quarterly": ("api_calls", "tokens", "gpus"),
    "growth_eur": ("api_calls", "tokens", "seats", "storage_gb"),
    "team_jpy": ("api_calls", "tokens", "seats"),
    "credits_usd": ("api_calls",),
    "annual_commit_usd": ("api_calls",),
    "scale_usd": ("api_calls",),
    # issue 17: seats prorated by active days, images paid as generated, LLM cost passed through
    "team_seats_usd": ("active_users", "images", "llm_requests"),
    "enterprise_seats_usd": ("api_calls", "llm_requests"),
}
# Median monthly API calls per plan for customers without a target.
PLAN_API_MEDIAN = {
    "starter_usd": 60,
    "pro_usd": 150,
    "dev_weekly_usd": 40,
    "enterprise_usd_quarterly": 500,
    "growth_eur": 110,
    "team_jpy": 70,
    "enterprise_seats_usd": 2500,
}
MODELS = ("small", "large", "embedding")  # "embedding" is outside the metric filter values
MODEL_CUM_WEIGHTS = (0.55, 0.88)  # small 55 %, large 33 %, embedding 12 %
REGION_BY_TZ = {
    "America/New_York": "us-east",
    "America/Chicago": "us-east",
    "America/Los_Angeles": "us-west",
    "Europe/Paris": "eu-west",
    "Europe/Berlin": "eu-central",
    "Asia/Tokyo": "ap-northeast",
    "UTC": "eu-west",
}
REGIONS = ("us-east", "us-west", "eu-west", "eu-central", "ap-northeast")
# Relative traffic per local hour of the day (busy in office hours).
HOUR_WEIGHTS = (1, 1, 1, 1, 1, 1, 1, 2, 4, 6, 7, 7, 6, 7, 7, 6, 5, 4, 3, 3, 2, 2, 1, 1)
HOUR_CUM_SHARES = tuple(sum(HOUR_WEIGHTS[: h + 1]) / sum(HOUR_WEIGHTS) for h in range(23))

LATE_SHARE = 0.01  # share of September/October events that arrive late, in the JSONL file


# --------------------------------------------------------------------------------------------
# Catalog


@dataclass(frozen=True)
class Subscription:
    external_id: str
    customer_id: str
    profile_customer_id: str  # catalog customer a clone copies its usage profile from
    plan_code: str
    started_at: date
    ending_at: date | None
    tz_name: str
    sole_subscription: bool  # the customer has no other subscription

    @property
    def tz(self) -> ZoneInfo:
        return _zone(self.tz_name)


_ZONES: dict[str, ZoneInfo] = {}


def _zone(name: str) -> ZoneInfo:
    if name not in _ZONES:
        _ZONES[name] = ZoneInfo(name or "UTC")
    return _ZONES[name]


def _read_csv(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with path.open(newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        return list(reader.fieldnames or []), list(reader)


def load_catalog(catalog_dir: Path, scale: float) -> tuple[list[Subscription], dict[str, list]]:
    """Subscriptions to simulate and the (possibly extended) customer/subscription tables."""
    cust_fields, customers = _read_csv(catalog_dir / "customers.csv")
    sub_fields, subs = _read_csv(catalog_dir / "subscriptions.csv")
    n_slots = max(1, round(len(customers) * scale))
    copies = math.ceil(n_slots / len(customers))
    slots = [(k, c) for k in range(copies) for c in customers][:n_slots]

    out_customers, out_subs, result = [], [], []
    subs_by_customer: dict[str, list[dict[str, str]]] = {}
    for s in subs:
        subs_by_customer.setdefault(s["external_customer_id"], []).append(s)
    for k, c in slots:
        suffix = "" if k == 0 else f"_x{k + 1}"
        cid = c["external_id"] + suffix
        out_customers.append({**c, "external_id": cid, "name": c["name"] + (f" ({k + 1})" if k else "")})
        own = subs_by_customer.get(c["external_id"], [])
        for s in own:
            sid = s["external_id"] + suffix
            out_subs.append({**s, "external_id": sid, "external_customer_id": cid})
            result.append(
                Subscription(
                    external_id=sid,
                    customer_id=cid,
                    profile_customer_id=c["external_id"],
                    plan_code=s["plan_code"],
                    started_at=date.fromisoformat(s["started_at"]),
                    ending_at=date.fromisoformat(s["ending_at"]) if s["ending_at"] else None,
                    tz_name=c["timezone"] or "UTC",
                    sole_subscription=len(own) == 1,
                )
            )
    tables = {
        "customers": [cust_fields, out_customers],
        "subscriptions": [sub_fields, out_subs],
    }
    return result, tables


def write_catalog(catalog_dir: Path, out_dir: Path, tables: dict[str, list]) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    for src in sorted(catalog_dir.glob("*.csv")):
        if src.stem not in tables:
            shutil.copyfile(src, out_dir / src.name)
    for name, (fields, rows) in tables.items():
        with (out_dir / f"{name}.csv").open("w", newline="", encoding="utf-8") as f:
            writer = csv.DictWriter(f, fieldnames=fields, lineterminator="\n")
            writer.writeheader()
            writer.writerows(rows)


# --------------------------------------------------------------------------------------------
# Events


@dataclass
class Event:
    transaction_id: str | None
    customer_id: str | None
    subscription_id: str | None
    code: str | None
    ts: datetime  # aware, UTC
    properties: dict
    tz_name: str = "UTC"
    plan_code: str = ""
    local_month: tuple[int, int] = (0, 0)
    precise: str | None = None  # precise_total_amount_cents, for a dynamic charge's metric

    def sort_key(self) -> tuple:
        return (self.ts, self.transaction_id or "", self.subscription_id or "", self.code or "")


def _uuid(rng: random.Random) -> str:
    """A version-4 UUID string drawn from ``rng``."""
    h = f"{rng.getrandbits(122):031x}"
    variant = "89ab"[int(h[15], 16) & 3]
    return f"{h[0:8]}-{h[8:12]}-4{h[12:15]}-{variant}{h[16:19]}-{h[19:31]}"


def _days(first: date, last: date):
    d = first
    while d <= last:
        yield d
        d += timedelta(days=1)


def _local_instant(day: date, second_of_day: int, tz: ZoneInfo) -> datetime:
    # Wall-clock arithmetic: ZoneInfo recomputes the offset for the new local time.
    local = datetime.combine(day, time(0), tzinfo=tz) + timedelta(seconds=second_of_day)
    return local.astimezone(UTC)


def _random_second(rng: random.Random) -> int:
    hour = bisect.bisect(HOUR_CUM_SHARES, rng.random())
    return hour * 3600 + int(rng.random() * 3600)


class SubscriptionSimulator:
    """Usage of one subscription over its active demo days, from its own random stream."""

    def __init__(self, sub: Subscription, seed: int):
        self.sub = sub
        self.rng = random.Random(f"tally-demo:{seed}:{sub.external_id}")
        first = max(sub.started_at, DEMO_FIRST_DAY)
        # The ending date is the last day of service; keep usage strictly before it so it is
        # billable whatever the pipeline decides about the ending day itself.
        last = DEMO_LAST_DAY if sub.ending_at is None else min(DEMO_LAST_DAY, sub.ending_at - timedelta(1))
        self.first, self.last = first, last
        self.region = REGION_BY_TZ.get(sub.tz_name, "eu-west")
        self.events: list[Event] = []

    def _ids(self) -> tuple[str | None, str | None]:
        """(customer_id, subscription_id) as the customer's integration sends them."""
        if not self.sub.sole_subscription:
            return self.sub.customer_id, self.sub.external_id
        r = self.rng.random()
        if r < 0.08:
            return self.sub.customer_id, None
        if r < 0.30:
            return None, self.sub.external_id
        return self.sub.customer_id, self.sub.external_id

    def emit(self, code: str, day: date, second: int, properties: dict, precise: str | None = None) -> None:
        customer_id, subscription_id = self._ids()
        self.events.append(
            Event(
                transaction_id=_uuid(self.rng),
                customer_id=customer_id,
                subscription_id=subscription_id,
                code=code,
                ts=_local_instant(day, second, self.sub.tz),
                properties=properties,
                tz_name=self.sub.tz_name,
                plan_code=self.sub.plan_code,
                local_month=(day.year, day.month),
                precise=precise,
            )
        )

    def run(self) -> list[Event]:
        if self.first > self.last:
            return []
        for metric in PLAN_METRICS.get(self.sub.plan_code, ("api_calls",)):
            getattr(self, f"_{metric}")()
        return self.events

    # -- helpers -------------------------------------------------------------------------
    def _month_days(self) -> list[tuple[int, list[date], int]]:
        """(month index, active days, days in month) for each demo month with activity."""
        out = []
        for i, (y, m) in enumerate(DEMO_MONTHS):
            month_first = date(y, m, 1)
            month_last = (date(y + m // 12, m % 12 + 1, 1)) - timedelta(1)
            days = list(_days(max(month_first, self.first), min(month_last, self.last)))
            if days:
                out.append((i, days, month_last.day))
        return out

    def _model(self) -> str:
        return MODELS[bisect.bisect(MODEL_CUM_WEIGHTS, self.rng.random())]

    # -- meters --------------------------------------------------------------------------
    def _api_calls(self) -> None:
        rng = self.rng
        targets = API_CALL_TARGETS.get(self.sub.profile_customer_id)
        median = PLAN_API_MEDIAN.get(self.sub.plan_code, 100)
        base = median * math.exp(rng.gauss(0, 0.7))
        growth_eur = self.sub.plan_code == "growth_eur"
        for i, days, month_len in self._month_days():
            if targets:
                n = round(targets[i] * len(days) / month_len)
            else:
                n = round(base * (0.85 + 0.1 * i + rng.random() * 0.2) * len(days) / month_len)
            weights = [0.55 if d.weekday() >= 5 else 1.0 for d in days]
            chosen = sorted(rng.choices(range(len(days)), weights=weights, k=n))
            for di in chosen:
                props = {"model": self._model()}
                r = rng.random()
                if growth_eur and r < 0.02:
                    pass  # no region: a pricing group of its own (null) on the grouped charge
                elif r < 0.8:
                    props["region"] = self.region
                else:
                    props["region"] = rng.choice(REGIONS)
                self.emit("api_calls", days[di], _random_second(rng), props)

    def _tokens(self) -> None:
        rng = self.rng
        target = TOKEN_TARGETS.get(self.sub.profile_customer_id)
        monthly = target or 1_500_000 * math.exp(rng.gauss(0, 1.1))
        per_day_events = rng.choice((1, 1, 2, 2, 3))
        for _, days, month_len in self._month_days():
            per_event = monthly / month_len / per_day_events
            for d in days:
                for _ in range(per_day_events + (1 if rng.random() < 0.2 else 0)):
                    tokens = max(1, int(per_event * (0.4 + 1.2 * rng.random())))
                    self.emit("tokens", d, _random_second(rng), {"model": self._model(), "tokens": tokens})

    def _gpus(self) -> None:
        rng = self.rng
        if rng.random() < 0.45:
            return  # this customer runs no dedicated GPUs
        span = (self.last - self.first).days
        start = self.first + timedelta(rng.randrange(0, max(1, min(10, span + 1))))
        level = rng.randint(1, 4)
        self.emit("gpus", start, _random_second(rng), {"gpus": level})
        for _ in range(rng.randint(2, 5)):
            remaining = (self.last - start).days
            if remaining <= 0:
                break
            day = start + timedelta(rng.randrange(1, remaining + 1))
            delta = rng.choice((1, 2, -1, -1, -2))
            if level + delta < 0:
                delta = -level
            if delta == 0:
                delta = 1
            level += delta
            self.emit("gpus", day, _random_second(rng), {"gpus": delta})
            start = day

    def _active_users(self) -> None:
        """The team plan's seats: the same adds and removes as _seats, billed prorated by days."""
        self._seats("active_users")

    def _seats(self, code: str = "seats") -> None:
        rng = self.rng
        slug = self.sub.customer_id.removeprefix("cus_")
        next_user = 1
        active: list[str] = []
        first_n = rng.randint(3, 18)
        for _ in range(first_n):
            user = f"usr_{slug}_{next_user:03d}"
            next_user += 1
            active.append(user)
            self.emit(code, self.first, _random_second(rng), {"user_id": user, "operation_type": "add"})
        for d in _days(self.first + timedelta(1), self.last):
            r = rng.random()
            if r < 0.07:
                user = f"usr_{slug}_{next_user:03d}"
                next_user += 1
                active.append(user)
                self.emit(code, d, _random_second(rng), {"user_id": user, "operation_type": "add"})
            elif r < 0.10 and len(active) > 1:
                user = active.pop(rng.randrange(len(active)))
                self.emit(code, d, _random_second(rng), {"user_id": user, "operation_type": "remove"})
            elif r < 0.105 and active:
                # A repeated "add" for a seat that is already active (counts once).
                self.emit(code, d, _random_second(rng), {"user_id": rng.choice(active),
                                                           "operation_type": "add"})

    def _images(self) -> None:
        """Image generations, paid in advance (one invoice per local day, grouping `day`): on about a
        third of the days, a few requests of 1-12 images each."""
        rng = self.rng
        for d in _days(self.first, self.last):
            if rng.random() < 0.35:
                for _ in range(rng.randint(1, 3)):
                    self.emit("images", d, _random_second(rng), {"images": rng.randint(1, 12), "size": "1024x1024"})

    def _llm_requests(self) -> None:
        """Requests to a partner model billed at its cost: each event carries its price in cents
        (precise_total_amount_cents: output tokens at $15 per million, 0.0015 cents a token)."""
        rng = self.rng
        for d in _days(self.first, self.last):
            for _ in range(rng.choice((1, 2, 3, 4))):
                tokens = rng.randint(200, 4000)
                self.emit("llm_requests", d, _random_second(rng), {"output_tokens": tokens, "model": "partner-xl"},
                          precise=str(Decimal(tokens) * Decimal("0.0015")))

    def _storage_gb(self) -> None:
        rng = self.rng
        gb = 120 * math.exp(rng.gauss(0, 1.0))
        for d in _days(self.first, self.last):
            gb *= 1 + rng.uniform(-0.01, 0.025)
            self.emit("storage_gb", d, _random_second(rng), {"gb": round(max(gb, 1.0), 3)})

    def _partner_model_spend(self) -> None:
        rng = self.rng
        if rng.random() < 0.4:
            return
        scale = 6 * math.exp(rng.gauss(0, 0.7))
        for d in _days(self.first, self.last):
            for _ in range(rng.choice((0, 1, 1, 2))):
                amount = round(scale * (0.3 + 1.4 * rng.random()) + 0.5, 2)
                self.emit("partner_model_spend", d, _random_second(rng), {"amount": amount, "model": "partner-xl"})

    def _fine_tuned_models(self) -> None:
        rng = self.rng
        if rng.random() < 0.6:
            return
        models = rng.randint(1, 3)
        days = list(_days(self.first, self.last))
        for d in sorted(rng.sample(days, min(len(days), rng.randint(2, 5)))):
            self.emit("fine_tuned_models", d, _random_second(rng), {"models": models})
            models = max(0, models + rng.choice((-1, 1, 1)))


# --------------------------------------------------------------------------------------------
# Hand-written edge cases and bad events (documented in seeds/README.md)


def _at(iso: str) -> datetime:
    return datetime.fromisoformat(iso).astimezone(UTC)


def _find(events: list[Event], sub_id: str, code: str, month: tuple[int, int]) -> Event:
    """First generated event of a subscription, metric and local month (that carries both ids)."""
    for e in events:
        if (e.subscription_id == sub_id and e.customer_id and e.code == code and e.local_month == month):
            return e
    raise LookupError(f"no {code} event for {sub_id} in {month}")


def special_events(events: list[Event], subs: dict[str, Subscription]) -> tuple[list[dict], list[dict]]:
    """Rewrites a few generated events (originals of duplicates) and returns the extra JSONL and
    CSV records: dicts with the output fields, ``raw`` for a verbatim line, ``ts_format``."""
    jsonl: list[dict] = []
    csv_rows: list[dict] = []
    tz_by_customer = {s.customer_id: s.tz_name for s in subs.values()}

    def rec(tid, cus, sub, code, ts, props, fmt="iso", **extra):
        # Local offsets of the customer (UTC for unknown ones), as its integration would send.
        tz = subs[sub].tz_name if sub in subs else tz_by_customer.get(cus, "UTC")
        r = {"transaction_id": tid, "external_customer_id": cus, "external_subscription_id": sub,
             "code": code, "timestamp": ts, "properties": props, "ts_format": fmt, "tz": tz}
        r.update(extra)
        return r

    def has(sub_id: str) -> bool:
        return sub_id in subs

    # Exact duplicates: an original in the Parquet files and a re-sent copy elsewhere.
    if has("sub_003"):
        orig = _find(events, "sub_003", "api_calls", (2026, 9))
        orig.transaction_id = "resent_001"
        jsonl.append(rec("resent_001", orig.customer_id, orig.subscription_id, orig.code, orig.ts,
                         dict(orig.properties), fmt="unix"))
        conf = _find(events, "sub_003", "tokens", (2026, 10))
        conf.transaction_id = "conflict_001"
        conf.properties = {"model": "small", "tokens": 1200}
        jsonl.append(rec("conflict_001", conf.customer_id, conf.subscription_id, "tokens", conf.ts,
                         {"model": "small", "tokens": 9999}, fmt="unix"))
    if has("sub_086"):
        orig = _find(events, "sub_086", "api_calls", (2026, 11))
        orig.transaction_id = "resent_003"
        csv_rows.append(rec("resent_003", orig.customer_id, orig.subscription_id, orig.code, orig.ts,
                            dict(orig.properties)))

    # Valid edge cases.
    if has("sub_011"):
        jsonl.append(rec("resent_002", "cus_011", "sub_011", "api_calls", _at("2026-10-07T09:12:44-07:00"),
                         {"model": "small", "region": "us-east"}))
        jsonl.append(dict(jsonl[-1]))  # the same line twice
        jsonl.append(rec("ok_numeric_string_001", "cus_011", "sub_011", "tokens",
                         _at("2026-10-08T11:00:00-07:00"), {"model": "small", "tokens": "12.5"}))
        jsonl.append(rec("bad_non_numeric_001", "cus_011", "sub_011", "tokens",
                         _at("2026-10-08T11:05:00-07:00"), {"model": "small", "tokens": "lots"}))
    if has("sub_087"):
        # 00:30 on Oct 1 in Tokyo = Sep 30 15:30 UTC: October for the customer.
        jsonl.append(rec("tz_boundary_tokyo_001", "cus_087", "sub_087", "api_calls",
                         _at("2026-10-01T00:30:00+09:00"), {"model": "small", "region": "ap-northeast"}))
    if has("sub_004"):
        # 22:30 on Oct 31 in New York = Nov 1 02:30 UTC: October for the customer.
        jsonl.append(rec("tz_boundary_ny_001", "cus_004", "sub_004", "api_calls",
                         _at("2026-10-31T22:30:00-04:00"), {"model": "large", "region": "us-east"}))
    if has("sub_061"):
        # Last second of September in Paris = Sep 30 21:59:59 UTC.
        jsonl.append(rec("tz_boundary_paris_001", "cus_061", "sub_061", "api_calls",
                         _at("2026-09-30T23:59:59+02:00"), {"model": "small", "region": "eu-west"}))
    if has("sub_041") and has("sub_042"):
        # The same transaction_id on two subscriptions: two distinct events (Lago scopes ids by
        # subscription).
        for sub_id, cus_id in (("sub_041", "cus_041"), ("sub_042", "cus_042")):
            jsonl.append(rec("shared_txn_001", cus_id, sub_id, "api_calls", _at("2026-11-10T15:00:00Z"),
                             {"model": "small", "region": "us-east"}, fmt="unix"))

    # Bad events in the JSONL file.
    jsonl += [
        rec("bad_timestamp_001", "cus_003", "sub_003", "api_calls", "2026-10-32T25:61:00Z",
            {"model": "small", "region": "us-east"}, fmt="raw"),
        rec("bad_unknown_metric_001", "cus_031", "sub_031", "image_generations",
            _at("2026-10-12T10:00:00Z"), {"images": 4}),
        rec("bad_unknown_subscription_001", None, "sub_999", "api_calls", _at("2026-10-12T10:00:00Z"),
            {"model": "small", "region": "us-east"}),
        # sub_026 starts on 2026-09-15 (America/Los_Angeles).
        rec("bad_no_active_sub_001", "cus_026", "sub_026", "api_calls", _at("2026-09-05T10:00:00-07:00"),
            {"model": "small", "region": "us-west"}),
        # sub_020 ends on 2026-10-16.
        rec("bad_no_active_sub_002", "cus_020", "sub_020", "tokens", _at("2026-11-03T09:00:00Z"),
            {"model": "large", "tokens": 5000}),
        rec("bad_non_numeric_003", "cus_031", "sub_031", "storage_gb", _at("2026-10-20T08:00:00Z"),
            {"gb": "n/a"}),
        rec("bad_non_numeric_004", "cus_031", "sub_031", "gpus", _at("2026-10-20T08:05:00Z"),
            {"gpus": "two"}),
        rec(None, "cus_017", "sub_017", "api_calls", _at("2026-10-21T13:00:00Z"),
            {"model": "small", "region": "us-east", "request_id": "bad_missing_transaction_id_001"}),
        rec("bad_missing_code_001", "cus_017", "sub_017", None, _at("2026-10-21T13:01:00Z"),
            {"model": "small", "tokens": 500}),
        rec("bad_missing_ids_001", None, None, "api_calls", _at("2026-10-21T13:02:00Z"),
            {"model": "small", "region": "us-east"}),
        {"raw": '{"transaction_id": "bad_malformed_json_001", "external_subscription_id": "sub_003", '
                '"code": "api_calls", "timestamp": 17915'},
    ]

    # Bad rows and edge cases in the partner CSV (JPY customers, Tokyo offsets).
    csv_rows += [
        rec("bad_timestamp_002", "cus_089", "sub_089", "tokens", "2026-11-31T10:00:00+09:00",
            {"model": "small", "tokens": 2000}, fmt="raw"),
        rec("bad_unknown_customer_001", "cus_999", None, "tokens", _at("2026-10-14T10:00:00+09:00"),
            {"model": "small", "tokens": 2000}),
        rec("bad_non_numeric_002", "cus_089", "sub_089", "tokens", _at("2026-10-14T10:05:00+09:00"),
            {"model": "small", "tokens": "1,200"}),
        rec("ok_numeric_string_002", "cus_089", "sub_089", "tokens", _at("2026-10-14T10:10:00+09:00"),
            {"model": "large", "tokens": "3400"}),
        rec(None, "cus_089", "sub_089", "tokens", _at("2026-10-14T10:15:00+09:00"),
            {"model": "small", "tokens": 800, "request_id": "bad_missing_transaction_id_002"}),
        # sub_095 starts on 2026-09-16; customer id only.
        rec("bad_no_active_sub_003", "cus_095", None, "tokens", _at("2026-09-10T12:00:00+09:00"),
            {"model": "small", "tokens": 700}),
        rec("conflict_002", "cus_091", "sub_091", "tokens", _at("2026-11-02T09:30:00+09:00"),
            {"model": "large", "tokens": 4200}),
        rec("conflict_002", "cus_091", "sub_091", "tokens", _at("2026-11-02T09:30:00+09:00"),
            {"model": "large", "tokens": 42000}),
    ]
    return jsonl, csv_rows


# --------------------------------------------------------------------------------------------
# Writers


def _iso(ts: datetime, tz_name: str, zulu: bool = False) -> str:
    if zulu:
        local = ts.astimezone(UTC)
        spec = "milliseconds" if local.microsecond else "seconds"
        return local.replace(tzinfo=None).isoformat(timespec=spec) + "Z"
    local = ts.astimezone(_zone(tz_name))
    return local.isoformat(timespec="milliseconds" if local.microsecond else "seconds")


def _unix(ts: datetime) -> int | float:
    seconds = ts.timestamp()
    return int(seconds) if ts.microsecond == 0 else round(seconds, 3)


def _format_ts(ts, fmt: str, tz_name: str):
    if fmt == "raw":
        return ts
    if fmt == "unix":
        return _unix(ts)
    if fmt == "zulu":
        return _iso(ts, tz_name, zulu=True)
    return _iso(ts, tz_name)


def _event_record(e: Event, fmt: str) -> dict:
    return {
        "transaction_id": e.transaction_id,
        "external_customer_id": e.customer_id,
        "external_subscription_id": e.subscription_id,
        "code": e.code,
        "timestamp": e.ts,
        "properties": e.properties,
        "ts_format": fmt,
        "tz": e.tz_name,
        PRECISE_AMOUNT: e.precise,
    }


def _dumps(obj) -> str:
    return json.dumps(obj, ensure_ascii=False)


def write_parquet(path: Path, events: list[Event]) -> None:
    schema = pa.schema(
        [
            ("transaction_id", pa.string()),
            ("external_customer_id", pa.string()),
            ("external_subscription_id", pa.string()),
            ("code", pa.string()),
            ("timestamp", TIMESTAMP_TYPE),
            ("properties", pa.string()),
            (PRECISE_AMOUNT, pa.string()),
        ]
    )
    table = pa.table(
        {
            "transaction_id": [e.transaction_id for e in events],
            "external_customer_id": [e.customer_id for e in events],
            "external_subscription_id": [e.subscription_id for e in events],
            "code": [e.code for e in events],
            "timestamp": pa.array([(e.ts - EPOCH) // ONE_MICROSECOND for e in events], TIMESTAMP_TYPE),
            "properties": [_dumps(e.properties) for e in events],
            PRECISE_AMOUNT: [e.precise for e in events],
        },
        schema=schema,
    )
    # No timestamps or host data in the file: the footer holds the schema and the writer
    # version only, so the bytes depend on the rows alone.
    pq.write_table(
        table,
        path,
        compression="zstd",
        compression_level=3,
        row_group_size=50_000,
        use_dictionary=["external_customer_id", "external_subscription_id", "code"],
        write_statistics=True,
    )


def write_jsonl(path: Path, records: list[dict]) -> None:
    with path.open("w", encoding="utf-8", newline="\n") as f:
        for r in records:
            if "raw" in r:
                f.write(r["raw"] + "\n")
                continue
            obj = {}
            for col in EVENT_COLUMNS:
                value = r[col]
                if col == "timestamp":
                    value = _format_ts(value, r["ts_format"], r["tz"])
                if value is not None:
                    obj[col] = value
            if r.get(PRECISE_AMOUNT) is not None:
                obj[PRECISE_AMOUNT] = r[PRECISE_AMOUNT]
            f.write(_dumps(obj) + "\n")


def write_csv(path: Path, records: list[dict]) -> None:
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(EVENT_COLUMNS)
        for r in records:
            ts = _format_ts(r["timestamp"], r["ts_format"], r["tz"])
            writer.writerow(
                [
                    r["transaction_id"] or "",
                    r["external_customer_id"] or "",
                    r["external_subscription_id"] or "",
                    r["code"] or "",
                    ts,
                    _dumps(r["properties"]),
                ]
            )


def _interleave(rng: random.Random, base: list[dict], extra: list[dict]) -> list[dict]:
    """Inserts ``extra`` records (in their order) at random places of ``base``."""
    positions = sorted(rng.randrange(len(base) + 1) for _ in extra)
    out, prev = [], 0
    for pos, rec in zip(positions, extra):
        out.extend(base[prev:pos])
        out.append(rec)
        prev = pos
    out.extend(base[prev:])
    return out


# --------------------------------------------------------------------------------------------


def generate(out_dir: Path, seed: int = 42, customers_scale: float = 1.0,
             catalog_dir: Path = CATALOG_DIR, catalog_out: Path | None = None,
             bulk_events: int = 0) -> dict[str, int]:
    if customers_scale <= 0:
        raise ValueError("--customers-scale must be positive")
    subs, tables = load_catalog(catalog_dir, customers_scale)
    if customers_scale > 1 and catalog_out is None:
        raise ValueError("--customers-scale above 1 adds customers: pass --catalog-out DIR for their catalog")
    if catalog_out is not None:
        write_catalog(catalog_dir, catalog_out, tables)

    events: list[Event] = []
    for sub in subs:
        events.extend(SubscriptionSimulator(sub, seed).run())
    events.sort(key=Event.sort_key)
    jsonl_extra, csv_extra = special_events(events, {s.external_id: s for s in subs})

    rng = random.Random(f"tally-demo:{seed}:files")
    parquet: dict[tuple[int, int], list[Event]] = {m: [] for m in DEMO_MONTHS}
    late: list[dict] = []
    partner: list[dict] = []
    keep_in_parquet = {"resent_001", "conflict_001", "resent_003"}
    for e in events:
        if e.plan_code == "team_jpy" and e.code in ("tokens", "seats"):
            fmt = "unix" if rng.random() < 0.2 else "iso"
            partner.append(_event_record(e, fmt))
        elif (e.local_month in ((2026, 9), (2026, 10)) and rng.random() < LATE_SHARE
              and e.transaction_id not in keep_in_parquet):
            r = rng.random()
            if r < 0.2:
                # Sub-second precision, sent as fractional Unix seconds.
                e.ts = e.ts + timedelta(milliseconds=rng.randrange(1, 1000))
                fmt = "unix"
            else:
                fmt = "unix" if r < 0.5 else ("zulu" if r < 0.65 else "iso")
            late.append(_event_record(e, fmt))
        else:
            parquet[e.local_month].append(e)

    out_dir.mkdir(parents=True, exist_ok=True)
    for name in OUTPUT_FILES:
        (out_dir / name).unlink(missing_ok=True)
    counts: dict[str, int] = {}
    for month, name in PARQUET_FILES.items():
        write_parquet(out_dir / name, parquet[month])
        counts[name] = len(parquet[month])
    jsonl_records = _interleave(rng, late, jsonl_extra)
    write_jsonl(out_dir / JSONL_FILE, jsonl_records)
    counts[JSONL_FILE] = len(jsonl_records)
    csv_records = _interleave(rng, partner, csv_extra)
    write_csv(out_dir / CSV_FILE, csv_records)
    counts[CSV_FILE] = len(csv_records)
    if bulk_events:
        counts[BULK_FILE] = write_bulk(out_dir / BULK_FILE, catalog_out or catalog_dir, bulk_events, seed)
    return counts


def write_bulk(path: Path, catalog_dir: Path, n: int, seed: int) -> int:
    """n more events in November 2026 with DuckDB SQL (seeds/bulk_events.py), for every
    subscription active then, each sending the metrics its plan charges; the instants keep a
    day's margin from the month's and the subscription's ends, so every timezone bills them in
    November. Returns the rows written (re-sends and bad rows included)."""
    import duckdb

    from seeds import bulk_events

    folder = str(catalog_dir).replace("'", "''")
    subscriptions = f"""
        with subs as (
            select external_id as subscription, plan_code,
                   greatest(cast(started_at as timestamp) + interval 1 day, timestamp '2026-11-02') as from_at,
                   least(coalesce(cast(nullif(ending_at, '') as timestamp) - interval 1 day, timestamp '2026-11-30'),
                         timestamp '2026-11-30') as to_at
            from read_csv('{folder}/subscriptions.csv', all_varchar = true)
        ),
        codes as (
            select plan_code, list(distinct billable_metric_code order by billable_metric_code) as codes
            from read_csv('{folder}/charges.csv', all_varchar = true)
            group by 1
        )
        select cast(row_number() over (order by subscription) - 1 as bigint) as k, subscription, codes.codes,
               from_at, cast(epoch_us(to_at) - epoch_us(from_at) as bigint) as span_us
        from subs inner join codes on subs.plan_code = codes.plan_code
        where to_at > from_at"""
    with duckdb.connect() as con:
        con.execute("set enable_progress_bar = false")
        bulk_events.write(con, path, subscriptions, n, seed)
        return con.execute(f"select count(*) from read_parquet('{path!s}')").fetchone()[0]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m seeds.generate_demo", description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, type=Path, help="landing folder to write the event files to")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--customers-scale", type=float, default=1.0,
                        help="fraction/multiple of the catalog's customers to simulate (default 1.0)")
    parser.add_argument("--catalog", type=Path, default=CATALOG_DIR, help="catalog to read (default: the demo)")
    parser.add_argument("--catalog-out", type=Path, default=None,
                        help="also write the matching catalog here (required when --customers-scale > 1)")
    parser.add_argument("--bulk-events", type=int, default=0,
                        help=f"also write N events for November 2026 with DuckDB ({BULK_FILE}); default 0")
    args = parser.parse_args(argv)
    try:
        counts = generate(args.out, args.seed, args.customers_scale, args.catalog, args.catalog_out,
                          args.bulk_events)
    except ValueError as exc:
        parser.error(str(exc))
    total = sum(counts.values())
    print("events written: " + ", ".join(f"{name}={n}" for name, n in counts.items()) + f", total={total}")


if __name__ == "__main__":
    main()
