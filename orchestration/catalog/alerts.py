"""alerts.csv (optional): Lago's usage alerts on a subscription (docs/decisions.md 26), in Lago's
vocabulary: code, name, external_subscription_id, alert_type, billable_metric_code and the
thresholds as Lago's API takes them, a JSON list of {"code", "value", "recurring"}. An amount
threshold is in the currency (as every catalog amount), a units threshold in the metric's units.
orchestration/alerts.py evaluates them against billing.current_usage."""
from __future__ import annotations

from decimal import Decimal
from typing import NamedTuple

from orchestration.catalog_kit.cells import dec, json_cell
from orchestration.catalog_kit.check import Check
from orchestration.catalog_kit.files import Row
from orchestration.catalog_kit.tables import Flag, Int, Money, OptText, Text

# Lago's four subscription alert types (usage_monitoring/alert.rb); the two billable_metric_*
# name a metric, the others must not (Lago's billable_metric_when_required)
ALERT_TYPES = ("current_usage_amount", "billable_metric_current_usage_amount",
               "billable_metric_current_usage_units", "lifetime_usage_amount")
METRIC_TYPES = frozenset(t for t in ALERT_TYPES if t.startswith("billable_metric_"))
THRESHOLD_KEYS = ("code", "value", "recurring")


class Alert(NamedTuple):
    table = "alerts"
    external_subscription_id: Text
    alert_code: Text
    alert_name: OptText
    alert_type: Text
    billable_metric_code: OptText  # the billable_metric_* types only
    line_number: Int  # the row of alerts.csv


class AlertThreshold(NamedTuple):
    table = "alert_thresholds"
    external_subscription_id: Text
    alert_code: Text
    position: Int  # from 1, in the order of the thresholds list
    threshold_code: OptText
    value: Money  # > 0; the recurring one is the step after the largest one-time threshold
    recurring: Flag


def check(c: Check, metrics: dict[str, Row]) -> None:
    problems = c.problems
    subscriptions = {r.data["external_id"]: r for r in c.rows["subscriptions.csv"]}
    codes: dict[tuple[str, str], Row] = {}  # (subscription, code): Lago's unique code per subscription
    kinds: dict[tuple[str, str, str], Row] = {}  # (subscription, type, metric): one alert of each
    for r in c.rows["alerts.csv"]:
        d = r.data
        sub, code, kind, metric = d["external_subscription_id"], d["code"], d["alert_type"], d["billable_metric_code"]
        for col in ("code", "external_subscription_id", "alert_type"):
            if d[col] == "":
                problems.append(f"{r.where()}: {col} is required")
        if sub and sub not in subscriptions:
            problems.append(f"{r.where()}: external_subscription_id {sub!r} does not exist in subscriptions.csv")
        if kind and kind not in ALERT_TYPES:
            problems.append(f"{r.where()}: alert_type {kind!r} is unknown (rule: one of {list(ALERT_TYPES)})")
        _check_metric(c, r, subscriptions.get(sub), metrics)
        if sub and code:
            if (sub, code) in codes:
                problems.append(f"{r.where()}: duplicate code {code!r} for subscription {sub!r} (first at row "
                                f"{codes[sub, code].line}; rule: an alert code is unique per subscription)")
            codes.setdefault((sub, code), r)
        if sub and kind in ALERT_TYPES:
            key = (sub, kind, metric)
            if key in kinds:
                what = f"a {kind} alert" + (f" on {metric!r}" if metric else "")
                problems.append(f"{r.where()}: subscription {sub!r} already has {what} (row {kinds[key].line}; "
                                f"rule: one alert per type and metric per subscription, as Lago)")
            kinds.setdefault(key, r)
        c.add(Alert(sub, code, d.get("name") or None, kind, metric or None, r.line))
        for position, (threshold_code, value, recurring) in enumerate(_thresholds(r, problems), start=1):
            c.add(AlertThreshold(sub, code, position, threshold_code, value, recurring))


def _check_metric(c: Check, r: Row, subscription: Row | None, metrics: dict[str, Row]) -> None:
    """A metric for the billable_metric_* types only, one that exists; a warning when the
    subscription's plan does not charge it (its current usage has no such fee: the alert never
    fires)."""
    d, problems = r.data, c.problems
    kind, metric = d["alert_type"], d["billable_metric_code"]
    if kind in METRIC_TYPES and not metric:
        problems.append(f"{r.where()}: billable_metric_code is required for {kind} (rule: a billable_metric_* "
                        f"alert names its metric)")
    elif kind not in METRIC_TYPES and metric and kind in ALERT_TYPES:
        problems.append(f"{r.where()}: billable_metric_code must be empty for {kind} (rule: only the "
                        f"billable_metric_* alerts name a metric)")
    if not metric:
        return
    if metric not in metrics:
        problems.append(f"{r.where()}: billable_metric_code {metric!r} does not exist in billable_metrics.csv")
    elif subscription is not None and kind in METRIC_TYPES:
        plan = subscription.data["plan_code"]
        charges = [h for h in c.rows["charges.csv"]
                   if h.data["plan_code"] == plan and h.data["billable_metric_code"] == metric]
        if not charges:
            c.warnings.append(f"{r.where()}: plan {plan!r} of subscription {d['external_subscription_id']!r} "
                              f"does not charge it: the alert on {metric!r} never fires (Lago skips it too)")


def _thresholds(r: Row, problems: list[str]) -> list[tuple[str | None, Decimal, bool]]:
    """Lago's thresholds list: at least one; each an object of code (optional), value (a
    positive decimal, required) and recurring (true/false, default false); at most one
    recurring; no one-time value twice."""
    if r.data["thresholds"] == "":
        problems.append(f"{r.where()}: thresholds is required (rule: an alert has at least one threshold)")
        return []
    before = len(problems)
    items = json_cell(r, "thresholds", problems, list)
    if not items and len(problems) == before:
        problems.append(f"{r.where()}: thresholds needs at least one threshold (rule: an alert has at least one "
                        f"threshold)")
    out: list[tuple[str | None, Decimal, bool]] = []
    recurring_at: int | None = None
    seen: dict[Decimal, int] = {}
    for i, item in enumerate(items):
        where = f"thresholds[{i}]"
        if not isinstance(item, dict):
            problems.append(f"{r.where()}: {where} must be an object with code, value and recurring")
            continue
        unknown = sorted(set(item) - set(THRESHOLD_KEYS))
        if unknown:
            problems.append(f"{r.where()}: {where} has unknown keys {unknown} (rule: a threshold has "
                            f"{list(THRESHOLD_KEYS)})")
        code = item.get("code")
        if code is not None and not isinstance(code, str):
            problems.append(f"{r.where()}: {where}.code must be a string or null")
            code = None
        recurring = item.get("recurring")
        if recurring is not None and not isinstance(recurring, bool):
            problems.append(f"{r.where()}: {where}.recurring must be true, false or null")
        recurring = recurring is True
        value = dec(r, f"{where}.value", problems, value=item.get("value"), allow_negative=True)
        if value is not None and value <= 0:
            problems.append(f"{r.where()}: {where}.value={item.get('value')!r} must be above 0 (rule: a threshold "
                            f"is a positive value)")
            value = None
        if recurring:
            if recurring_at is not None:
                problems.append(f"{r.where()}: {where} is a second recurring threshold (first: thresholds"
                                f"[{recurring_at}]; rule: at most one recurring threshold per alert)")
            recurring_at = i if recurring_at is None else recurring_at
        elif value is not None:
            if value in seen:
                problems.append(f"{r.where()}: {where}.value {value} is already thresholds[{seen[value]}] "
                                f"(rule: each one-time threshold value once)")
            seen.setdefault(value, i)
        if value is not None:
            out.append((code or None, value, recurring))
    return out
