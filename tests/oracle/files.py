"""A world as `tally run` reads it: the catalog CSVs and the landing JSONL files (the events
spread over a few files, whose names and lines are recorded on each event, and the noise file
last). Timestamps take every accepted form: Unix seconds, UTC ISO, ISO with a local offset."""
from __future__ import annotations

import csv
import json
import random
from pathlib import Path
from zoneinfo import ZoneInfo

from tests.oracle.model import Event, World
from tests.oracle.noise import noise_lines


def _timestamp(rng: random.Random, ev: Event, tz: ZoneInfo) -> str | int:
    """The same instant as Unix seconds, UTC ISO or ISO with the customer's local offset."""
    kind = rng.random()
    if kind < 0.3:
        seconds = ev.at.timestamp()
        return int(seconds) if seconds == int(seconds) else seconds
    if kind < 0.6:
        return ev.at.strftime("%Y-%m-%dT%H:%M:%S.%fZ" if ev.at.microsecond else "%Y-%m-%dT%H:%M:%SZ")
    return ev.at.astimezone(tz).isoformat()


def _csv(path: Path, header: list[str], rows: list[list]) -> None:
    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(rows)


def write_world(world: World, root: Path, files: int = 3) -> tuple[Path, Path]:
    """Catalog CSVs in root/catalog, events as JSONL in root/landing (split over `files` files,
    whose names and lines are recorded on each event: latest_agg breaks ties by them)."""
    cat, land = root / "catalog", root / "landing"
    cat.mkdir(parents=True)
    land.mkdir(parents=True)
    _csv(cat / "customers.csv", ["external_id", "name", "currency", "timezone", "tax_codes"],
         [[c.id, f"Customer {c.id}", c.currency, c.timezone, ";".join(c.tax_codes)] for c in world.customers.values()])
    _csv(cat / "taxes.csv", ["code", "name", "rate", "applied_by_default"],
         [[t.code, t.code, str(t.rate), str(t.applied_by_default).lower()] for t in world.taxes.values()])
    _csv(cat / "coupons.csv", ["code", "coupon_type", "amount", "percentage_rate", "frequency", "frequency_duration"],
         [[c.code, c.coupon_type, "" if c.amount is None else str(c.amount),
           "" if c.percentage_rate is None else str(c.percentage_rate), c.frequency,
           "" if c.frequency_duration is None else c.frequency_duration] for c in world.coupons.values()])
    _csv(cat / "usage_thresholds.csv", ["plan_code", "amount", "recurring"],
         [[p.code, str(a), str(r).lower()] for p in world.plans.values() for a, r in p.thresholds])
    _csv(cat / "wallets.csv", ["id", "external_customer_id", "currency", "rate_amount", "priority", "expiration_at"],
         [[w.id, w.customer, w.currency, str(w.rate_amount), "" if w.priority is None else w.priority,
           w.expiration_at.strftime("%Y-%m-%dT%H:%M:%SZ") if w.expiration_at else ""] for w in world.wallets])
    for row, t in enumerate(world.wallet_transactions, start=2):
        t.row = row
    _csv(cat / "wallet_transactions.csv", ["wallet_id", "credits", "kind", "created_at"],
         [[t.wallet, str(t.credits), t.kind, t.created_at.strftime("%Y-%m-%dT%H:%M:%SZ")]
          for t in world.wallet_transactions])
    _csv(cat / "applied_coupons.csv", ["coupon_code", "external_customer_id", "applied_at"],
         [[a.coupon, a.customer, a.applied_at.isoformat()] for a in world.applied_coupons])
    _csv(cat / "billable_metrics.csv", ["code", "name", "aggregation_type", "field_name", "recurring",
                                        "rounding_function", "rounding_precision", "filters"],
         [[m.code, m.code, m.aggregation, m.field_name, str(m.recurring).lower(), m.rounding_function,
           "" if m.rounding_precision is None else m.rounding_precision,
           json.dumps(m.filters) if m.filters else ""] for m in world.metrics.values()])
    _csv(cat / "plans.csv", ["code", "name", "interval", "amount", "currency", "pay_in_advance", "trial_period",
                             "minimum_commitment", "tax_codes"],
         [[p.code, p.code, p.interval, str(p.amount), p.currency, str(p.pay_in_advance).lower(), p.trial_days,
           "" if p.minimum_commitment is None else str(p.minimum_commitment), ";".join(p.tax_codes)]
          for p in world.plans.values()])
    charge_rows = []
    for p in world.plans.values():
        for c in p.charges:
            filters = [{"values": f.values, "properties": f.properties} for f in c.filters]
            charge_rows.append([c.id, p.code, c.metric, c.model, json.dumps(c.properties), "false",
                                "" if c.min_amount is None else str(c.min_amount), c.id,
                                json.dumps(filters) if filters else "", ";".join(c.tax_codes)])
    _csv(cat / "charges.csv", ["id", "plan_code", "billable_metric_code", "charge_model", "properties",
                               "pay_in_advance", "min_amount", "invoice_display_name", "filters", "tax_codes"],
         charge_rows)
    _csv(cat / "subscriptions.csv", ["external_id", "external_customer_id", "plan_code", "started_at", "ending_at",
                                     "billing_time"],
         [[s.id, s.customer, s.plan, s.started.isoformat(), s.ending.isoformat() if s.ending else "",
           s.billing_time] for s in world.subscriptions.values()])
    rng = random.Random(world.seed + 1)
    handles = [(f"events_{k}.jsonl", (land / f"events_{k}.jsonl").open("w")) for k in range(files)]
    counts = [0] * files
    for ev in world.events:
        k = rng.randrange(files)
        name, fh = handles[k]
        counts[k] += 1
        ev.file, ev.line = name, counts[k]
        tz = ZoneInfo(world.customers[world.subscriptions[ev.sub].customer].timezone)
        fh.write(json.dumps({"transaction_id": ev.tid, "external_subscription_id": ev.sub, "code": ev.code,
                             "timestamp": _timestamp(rng, ev, tz), "properties": ev.properties}) + "\n")
    for _, fh in handles:
        fh.close()
    (land / "z_noise.jsonl").write_text("".join(noise_lines(world, rng)))
    return cat, land
