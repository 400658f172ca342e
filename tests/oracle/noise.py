"""Events that must change nothing: resends of billed events (same content, another timestamp
form, properties in another key order), conflicting resends (the first copy landed wins), and
events that cannot be billed (unknown subscription or metric, non-numeric value, before the
subscription started). Written to the last landing file, so every original lands first."""
from __future__ import annotations

import json
import random
from datetime import UTC, timedelta

from tests.oracle.model import World


def noise_lines(world: World, rng: random.Random) -> list[str]:
    out = []
    numeric = {m.code for m in world.metrics.values() if m.field_name and m.aggregation != "unique_count_agg"}
    for ev in rng.sample(world.events, len(world.events) // 100):
        resend = {"transaction_id": ev.tid, "external_subscription_id": ev.sub, "code": ev.code,
                  "timestamp": ev.at.astimezone(UTC).isoformat() if rng.random() < 0.5 else _unix(ev.at),
                  "properties": dict(reversed(list(ev.properties.items())))}
        out.append(resend)
        if ev.code in numeric and rng.random() < 0.5:
            field = world.metrics[ev.code].field_name
            out.append({**resend, "properties": {**ev.properties, field: "999999"}})  # conflicting: quarantined
    subs = list(world.subscriptions.values())
    code = next(m.code for m in world.metrics.values() if m.aggregation == "sum_agg" and not m.recurring)
    for k in range(len(subs) // 20):
        sub = rng.choice(subs)
        at = sub.started - timedelta(days=rng.randint(2, 30))
        base = {"transaction_id": f"noise_{k}", "external_subscription_id": sub.id, "code": code,
                "timestamp": f"{at.isoformat()}T12:00:00Z", "properties": {"v": 5}}
        out.append(rng.choice([
            base,  # before the subscription started
            {**base, "external_subscription_id": f"ghost_{k}"},
            {**base, "code": "no_such_metric"},
            {**base, "timestamp": f"{sub.started.isoformat()}T12:00:00Z", "properties": {"v": "1e3"}},
            {**base, "timestamp": f"{sub.started.isoformat()}T12:00:00Z", "properties": {"v": "12abc"}},
        ]))
    return [json.dumps(e) + "\n" for e in out]


def _unix(at) -> int | float:
    seconds = at.timestamp()
    return int(seconds) if seconds == int(seconds) else seconds
