"""Load and validate the pricing catalog (SPEC §3) into the `catalog` schema.

The catalog is small (rows, not events), so it is checked here in Python, where a broken
row can be reported with its file, line and rule before anything is billed. Lago's JSON
`properties` are flattened into relational tables (one row per price bucket, per tier,
per filter value) so that every dbt model stays plain SQL on any adapter.
"""
from __future__ import annotations

import json
import re
from decimal import ROUND_FLOOR, Context, Decimal, InvalidOperation
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import duckdb

from orchestration import aggregations, charge_models
from orchestration.catalog_kit.cells import boolean, codes, date_or_datetime, dec, instant, json_cell, whole
from orchestration.catalog_kit.check import CatalogError, Check
from orchestration.catalog_kit.files import FILES, OPTIONAL_FILES, Row, read
from orchestration.catalog_kit.tables import Catalog, write
from orchestration.lago_optional import is_unset, metric_filters
from orchestration.lib.money import is_known_currency

INTERVALS = {"weekly", "monthly", "quarterly", "yearly"}
BILLING_TIMES = {"calendar", "anniversary"}
ROUNDING_FUNCTIONS = {"round", "ceil", "floor"}
ALL_VALUES = "__ALL_FILTER_VALUES__"
WALLET_KINDS = {"purchased", "granted"}
COUPON_TYPES = {"fixed_amount", "percentage"}
COUPON_FREQUENCIES = {"once", "recurring", "forever"}
# The billing SQL stacks a customer's wallets, and its applied coupons, ten deep.
MAX_WALLETS = 10
MAX_APPLIED_COUPONS = 10
DEFAULT_WALLET_PRIORITY = 50
CREDIT_STEP = Decimal("0.00001")  # Lago floors credits to 5 decimals on input
MAX_GROUP_KEYS = 3
# macros/cross_db/numbers.sql apply_unit_rounding rounds to these precisions
MIN_PRECISION, MAX_PRECISION = -9, 10

# A tier's prices when unset (absent, null or ""): per_unit_amount and flat_amount are 0, as in
# Lago's default ranges; a graduated_percentage tier's rate has no default (Lago: "the rate is
# the only mandatory value").
TIER_DEFAULTS = {"per_unit_amount": "0", "flat_amount": "0"}


def _tier_value(row: Row, key: str, i: int, r: dict, col: str, problems: list[str]) -> Decimal | None:
    raw = r.get(col)
    return dec(row, f"{key}[{i}].{col}", problems, value=TIER_DEFAULTS.get(col) if is_unset(raw) else raw)


def _ranges(row: Row, props: dict, key: str, model: str, value_col: str, problems: list[str]) -> list[tuple]:
    """Validate Lago ranges: contiguous (next from = prev to, or prev to + 1), last open-ended.
    Every range is checked, so that each problem of the list is reported at once."""
    ranges = props.get(key)
    if not isinstance(ranges, list) or not ranges:
        problems.append(f"{row.where()}: {model} needs a non-empty properties.{key} list")
        return []
    out, prev = [], None  # prev: the previous range's (to_value, open-ended), None when unreadable
    for i, r in enumerate(ranges):
        if not isinstance(r, dict):
            problems.append(f"{row.where()}: {key}[{i}] must be an object")
            prev = None
            continue
        frm = dec(row, f"{key}[{i}].from_value", problems, value=r.get("from_value"))
        is_open = r.get("to_value") is None
        to = None if is_open else dec(row, f"{key}[{i}].to_value", problems, value=r.get("to_value"))
        price = _tier_value(row, key, i, r, value_col, problems)
        flat = _tier_value(row, key, i, r, "flat_amount", problems)
        if i == 0 and frm is not None and frm not in (Decimal(0), Decimal(1)):
            problems.append(f"{row.where()}: {key}[0].from_value must be 0 or 1 (rule: ranges start at 0)")
        if i > 0 and prev is not None and frm is not None:
            prev_to, prev_open = prev
            if not prev_open and frm not in (prev_to, prev_to + 1):
                kind = "overlap" if frm < prev_to else "gap"
                problems.append(f"{row.where()}: {key} have a {kind} between to_value {prev_to} and from_value {frm} "
                                f"(rule: each range starts at the previous to_value or to_value + 1)")
            if prev_open:
                problems.append(f"{row.where()}: {key}[{i - 1}] is open-ended but is not the last range")
        if to is not None and frm is not None and to <= frm:
            problems.append(f"{row.where()}: {key}[{i}] to_value {to} must be greater than from_value {frm}")
        if i == len(ranges) - 1 and to is not None:
            problems.append(f"{row.where()}: the last of {key} must have to_value null (rule: last range is open)")
        readable = is_open or to is not None
        if readable and None not in (frm, price, flat):
            out.append((i + 1, frm, to, price, flat))
        prev = (to, is_open) if readable else None
    return out


BUCKET_PROPERTIES = ["amount", "package_size", "free_units", "rate", "fixed_amount", "free_units_per_events",
                     "free_units_per_total_aggregation", "per_transaction_min_amount", "per_transaction_max_amount"]


def _property(row: Row, prop: charge_models.Property, props: dict, problems: list[str]):
    raw = props.get(prop.name)
    if is_unset(raw):  # absent, null or "": the registry's default, or none when optional
        if prop.optional:
            return None
        raw = prop.default
    col = f"properties.{prop.name}"
    if prop.kind == "money":
        return dec(row, col, problems, value=raw)
    if raw is None:
        problems.append(f"{row.where()}: {col} is required")
        return None
    try:
        return charge_models.whole(raw, positive=prop.kind == "positive_whole")
    except ValueError:
        bound = "> 0" if prop.kind == "positive_whole" else ">= 0"
        problems.append(f"{row.where()}: {col}={raw!r} must be a whole number {bound}")
        return None


def _bucket(row: Row, model: charge_models.ChargeModel, props: dict, problems: list[str], charge_id: str,
            filter_index: int, display_name: str, tables: dict) -> None:
    """One price bucket: the charge's own properties (filter 0) or one charge filter's, read as
    the model's registry entry says."""
    values = {prop.name: _property(row, prop, props, problems) for prop in model.properties}
    low, high = (values.get(name) for name in model.ordered) if model.ordered else (None, None)
    if low is not None and high is not None and low > high:
        problems.append(f"{row.where()}: {model.ordered[0]} is above {model.ordered[1]}")
    adjacent = False
    if model.ranges:
        tiers = _ranges(row, props, model.ranges, model.name, model.tier_price, problems)
        # Lago's "adjacent model": every range starts exactly where the previous one ends.
        adjacent = len(tiers) >= 2 and all(tiers[i][1] == tiers[i - 1][2] for i in range(1, len(tiers)))
        for tier_index, frm, to, price, flat in tiers:
            tables["charge_tiers"].append((
                charge_id, filter_index, tier_index, frm, to,
                price if model.tier_price == "per_unit_amount" else Decimal(0), flat,
                price if model.tier_price == "rate" else Decimal(0)))
    tables["charge_buckets"].append((
        charge_id, filter_index, display_name, *(values.get(name) for name in BUCKET_PROPERTIES), adjacent))


def _taxes(c: Check) -> dict[str, Row]:
    """taxes.csv: codes and rates in percent."""
    problems = c.problems
    taxes = c.unique("taxes.csv", "code")
    for r in taxes.values():
        d = r.data
        rate = dec(r, "rate", problems, allow_negative=True)
        if rate is not None and not Decimal(0) <= rate <= Decimal(100):
            problems.append(f"{r.where()}: rate={d['rate']!r} is not a percent from 0 to 100 "
                            f"(rule: a tax rate is in percent)")
        c.tables["taxes"].append((d["code"], d["name"], rate, boolean(r, "applied_by_default", problems)))
    return taxes


def _customers(c: Check, taxes: dict[str, Row]) -> dict[str, Row]:
    """customers.csv: currency, time zone and tax codes."""
    problems = c.problems
    customers = c.unique("customers.csv", "external_id")
    for r in customers.values():
        d = r.data
        cur = d["currency"].upper()
        if not is_known_currency(cur):
            problems.append(f"{r.where()}: currency {d['currency']!r} is not a known ISO 4217 code")
        tz = d["timezone"] or "UTC"
        try:
            ZoneInfo(tz)
        except (ZoneInfoNotFoundError, ValueError):
            problems.append(f"{r.where()}: timezone {tz!r} is not an IANA time zone name")
        c.tables["customers"].append((d["external_id"], d["name"], cur, tz, d["tax_codes"]))
        for code in codes(r, "tax_codes", taxes, problems):
            c.tables["customer_taxes"].append((d["external_id"], code))
    return customers


def _billable_metrics(c: Check) -> tuple[dict[str, Row], dict[str, dict[str, list[str]]]]:
    """billable_metrics.csv; also each metric's declared filters (key -> allowed values)."""
    problems = c.problems
    metrics = c.unique("billable_metrics.csv", "code")
    declared: dict[str, dict[str, list[str]]] = {}
    for r in metrics.values():
        d = r.data
        agg = d["aggregation_type"]
        known = aggregations.registry()
        if agg not in known:
            problems.append(f"{r.where()}: aggregation_type {agg!r} is unknown (rule: one of {sorted(known)})")
        elif known[agg].field != "none" and not d["field_name"]:
            problems.append(f"{r.where()}: {agg} needs a field_name")
        recurring = boolean(r, "recurring", problems)
        if recurring and agg in known and not known[agg].recurring:
            allowed = ", ".join(a.removesuffix("_agg") for a, e in known.items() if e.recurring)
            problems.append(f"{r.where()}: {agg} cannot be recurring (rule: only {allowed})")
        fn = d["rounding_function"] or None
        if fn and fn not in ROUNDING_FUNCTIONS:
            problems.append(f"{r.where()}: rounding_function {fn!r} is not round/ceil/floor")
        precision = _rounding_precision(r, problems)
        filters = json_cell(r, "filters", problems, dict, convert=metric_filters)
        for key, values in filters.items():
            if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
                problems.append(f"{r.where()}: filters[{key!r}] must be a list of strings")
                continue
            for v in values:
                c.tables["billable_metric_filters"].append((d["code"], key, v))
        declared[d["code"]] = filters
        c.tables["billable_metrics"].append((d["code"], d["name"], agg, d["field_name"] or None, recurring, fn,
                                             precision if fn else None))
    return metrics, declared


def _rounding_precision(r: Row, problems: list[str]) -> int | None:
    """The decimals a metric's rounding keeps (negative: tens, hundreds...); unset means 0 (Lago)."""
    raw = r.data["rounding_precision"]
    if raw == "":
        return 0
    if re.fullmatch(r"-?[0-9]+", raw, re.ASCII) and MIN_PRECISION <= int(raw) <= MAX_PRECISION:
        return int(raw)
    problems.append(f"{r.where()}: rounding_precision={raw!r} must be a whole number from {MIN_PRECISION} to "
                    f"{MAX_PRECISION} (rule: the precisions the billing SQL rounds to)")
    return None


def _plans(c: Check, taxes: dict[str, Row]) -> dict[str, Row]:
    """plans.csv: interval, currency, amount, trial and commitment."""
    problems = c.problems
    plans = c.unique("plans.csv", "code")
    for r in plans.values():
        d = r.data
        if d["interval"] not in INTERVALS:
            problems.append(f"{r.where()}: interval {d['interval']!r} is unknown (rule: one of {sorted(INTERVALS)})")
        cur = d["currency"].upper()
        if not is_known_currency(cur):
            problems.append(f"{r.where()}: currency {d['currency']!r} is not a known ISO 4217 code")
        amount = dec(r, "amount", problems)
        trial = 0
        if d["trial_period"]:
            try:
                trial = int(Decimal(d["trial_period"]))
                if trial < 0:
                    raise ValueError
            except (InvalidOperation, ValueError):
                problems.append(f"{r.where()}: trial_period must be a whole number of days >= 0")
        commitment = dec(r, "minimum_commitment", problems, required=False) or None  # 0: none, as in Lago
        c.tables["plans"].append((d["code"], d["name"], d["interval"], amount, cur,
                                  boolean(r, "pay_in_advance", problems), trial, commitment))
        for code in codes(r, "tax_codes", taxes, problems):
            c.tables["plan_taxes"].append((d["code"], code))
    return plans


def _charges(c: Check, plans: dict[str, Row], metrics: dict[str, Row],
             metric_filters: dict[str, dict[str, list[str]]], taxes: dict[str, Row]) -> None:
    """charges.csv: plan, metric, charge model and its properties, filters, group keys."""
    problems = c.problems
    charges = c.unique("charges.csv", "id")
    for r in charges.values():
        d = r.data
        cid, model = d["id"], d["charge_model"]
        if d["plan_code"] not in plans:
            problems.append(f"{r.where()}: plan_code {d['plan_code']!r} does not exist in plans.csv")
        metric = metrics.get(d["billable_metric_code"])
        if metric is None:
            problems.append(f"{r.where()}: billable_metric_code {d['billable_metric_code']!r} does not exist "
                            f"in billable_metrics.csv")
        for code in codes(r, "tax_codes", taxes, problems):
            c.tables["charge_taxes"].append((cid, code))
        # what does not depend on the charge model first: an unknown model hides none of it
        pay_in_advance = boolean(r, "pay_in_advance", problems)
        min_amount = dec(r, "min_amount", problems, required=False) or None  # 0: no minimum, as in Lago
        registered = charge_models.registry()
        if model not in registered:
            problems.append(f"{r.where()}: charge_model {model!r} is unknown (rule: one of {sorted(registered)})")
            continue
        model = registered[model]
        agg = metric.data["aggregation_type"] if metric else None
        if agg in model.refuses:
            problems.append(f"{r.where()}: {model.name} cannot price a {agg} metric (Lago rule)")
        if pay_in_advance:
            problems.append(f"{r.where()}: pay_in_advance charges are not supported yet; set it to false")
        props = json_cell(r, "properties", problems, dict)
        group_keys = props.get("pricing_group_keys") or props.get("grouped_by") or []
        if not isinstance(group_keys, list) or not all(isinstance(k, str) for k in group_keys):
            problems.append(f"{r.where()}: properties.pricing_group_keys must be a list of property names")
            group_keys = []
        if len(group_keys) > MAX_GROUP_KEYS:
            problems.append(f"{r.where()}: at most {MAX_GROUP_KEYS} pricing_group_keys are supported")
            group_keys = group_keys[:MAX_GROUP_KEYS]
        _bucket(r, model, props, problems, cid, 0, d["invoice_display_name"], c.tables)
        _charge_filters(c, r, model, props, metric_filters.get(d["billable_metric_code"], {}))
        keys = list(group_keys) + [None] * (MAX_GROUP_KEYS - len(group_keys))
        c.tables["charges"].append((cid, d["plan_code"], d["billable_metric_code"], model.name, pay_in_advance,
                                    min_amount, d["invoice_display_name"], json.dumps(props, sort_keys=True), *keys))


def _charge_filters(c: Check, r: Row, model: charge_models.ChargeModel, props: dict,
                    declared: dict[str, list[str]]) -> None:
    """A charge's filters: values the metric declares, each filter one more price bucket."""
    problems, d, cid = c.problems, r.data, r.data["id"]
    for idx, f in enumerate(json_cell(r, "filters", problems, list), start=1):
        if not isinstance(f, dict) or not isinstance(f.get("values"), dict) or not f["values"]:
            problems.append(f"{r.where()}: filters[{idx - 1}] needs a non-empty \"values\" object")
            continue
        for key, values in f["values"].items():
            vals = values if isinstance(values, list) else [values]
            if key not in declared:
                problems.append(f"{r.where()}: filters[{idx - 1}] key {key!r} is not a filter of metric "
                                f"{d['billable_metric_code']!r}")
            for v in vals:
                v = str(v)
                if v != ALL_VALUES and key in declared and v not in declared[key]:
                    problems.append(f"{r.where()}: filters[{idx - 1}] value {v!r} is not allowed for {key!r}")
                c.tables["charge_filter_values"].append((cid, idx, key, v))
        fprops = f.get("properties") or props
        if not isinstance(fprops, dict):
            problems.append(f"{r.where()}: filters[{idx - 1}].properties must be an object")
            continue
        _bucket(r, model, fprops, problems, cid, idx, f.get("invoice_display_name") or "", c.tables)


def _subscriptions(c: Check, customers: dict[str, Row], plans: dict[str, Row]) -> None:
    """subscriptions.csv: the customer and plan exist and share a currency; dates in order."""
    problems = c.problems
    subs = c.unique("subscriptions.csv", "external_id")
    for r in subs.values():
        d = r.data
        cust = customers.get(d["external_customer_id"])
        plan = plans.get(d["plan_code"])
        if cust is None:
            problems.append(f"{r.where()}: external_customer_id {d['external_customer_id']!r} does not exist "
                            f"in customers.csv")
        if plan is None:
            problems.append(f"{r.where()}: plan_code {d['plan_code']!r} does not exist in plans.csv")
        if cust and plan and cust.data["currency"].upper() != plan.data["currency"].upper():
            problems.append(f"{r.where()}: customer {cust.data['external_id']!r} pays in {cust.data['currency']} "
                            f"but plan {plan.data['code']!r} is in {plan.data['currency']} "
                            f"(rule: customer and plan currency must match)")
        bt = d["billing_time"] or "calendar"
        if bt not in BILLING_TIMES:
            problems.append(f"{r.where()}: billing_time {bt!r} is not calendar/anniversary")
        start = date_or_datetime(r, "started_at", problems, True)
        end = date_or_datetime(r, "ending_at", problems, False)
        if start and end and end[:10] < start[:10]:
            problems.append(f"{r.where()}: ending_at {end} is before started_at {start}")
        c.tables["subscriptions"].append((d["external_id"], d["external_customer_id"], d["plan_code"], start, end, bt))


def _usage_thresholds(c: Check, plans: dict[str, Row]) -> None:
    """usage_thresholds.csv: positive amounts, at most one recurring threshold per plan."""
    problems = c.problems
    recurring_plans: dict[str, Row] = {}
    fixed_seen: dict[tuple[str, Decimal], Row] = {}
    for r in c.rows["usage_thresholds.csv"]:
        d = r.data
        if d["plan_code"] not in plans:
            problems.append(f"{r.where()}: plan_code {d['plan_code']!r} does not exist in plans.csv")
        amount = dec(r, "amount", problems)
        if amount is not None and amount <= 0:
            problems.append(f"{r.where()}: amount must be above 0 (rule: a threshold is a positive amount)")
        recurring = boolean(r, "recurring", problems)
        if recurring:
            if d["plan_code"] in recurring_plans:
                problems.append(f"{r.where()}: plan {d['plan_code']!r} already has a recurring threshold "
                                f"(row {recurring_plans[d['plan_code']].line}; rule: at most one per plan)")
            recurring_plans[d["plan_code"]] = r
        elif amount is not None:
            key = (d["plan_code"], amount)
            if key in fixed_seen:
                problems.append(f"{r.where()}: plan {d['plan_code']!r} already has a threshold of {amount} "
                                f"(row {fixed_seen[key].line})")
            fixed_seen[key] = r
        c.tables["usage_thresholds"].append((d["plan_code"], amount, recurring, r.line))


def _wallets(c: Check, customers: dict[str, Row]) -> dict[str, Row]:
    """wallets.csv: in the customer's currency, a positive rate, a bounded number per customer."""
    problems = c.problems
    wallets = c.unique("wallets.csv", "id")
    wallets_of: dict[str, int] = {}
    for r in wallets.values():
        d = r.data
        cust = customers.get(d["external_customer_id"])
        if cust is None:
            problems.append(f"{r.where()}: external_customer_id {d['external_customer_id']!r} does not exist "
                            f"in customers.csv")
        cur = d["currency"].upper()
        if not is_known_currency(cur):
            problems.append(f"{r.where()}: currency {d['currency']!r} is not a known ISO 4217 code")
        elif cust and cur != cust.data["currency"].upper():
            problems.append(f"{r.where()}: wallet currency {cur} differs from customer {cust.data['external_id']!r} "
                            f"currency {cust.data['currency'].upper()} (rule: a wallet applies only in its "
                            f"customer's invoice currency)")
        rate = dec(r, "rate_amount", problems, allow_negative=True)
        if rate is not None and rate <= 0:
            problems.append(f"{r.where()}: rate_amount={d['rate_amount']!r} must be above 0 "
                            f"(rule: rate_amount is the currency value of one credit)")
        priority = DEFAULT_WALLET_PRIORITY if d["priority"] == "" else whole(
            r, "priority", problems, 1, DEFAULT_WALLET_PRIORITY, "Lago wallet priority 1..50; empty = 50")
        expiration = date_or_datetime(r, "expiration_at", problems, False)
        wallets_of[d["external_customer_id"]] = wallets_of.get(d["external_customer_id"], 0) + 1
        if wallets_of[d["external_customer_id"]] > MAX_WALLETS:
            problems.append(f"{r.where()}: customer {d['external_customer_id']!r} has more than {MAX_WALLETS} "
                            f"wallets (rule: at most {MAX_WALLETS} wallets per customer; billing stacks at most "
                            f"{MAX_WALLETS})")
        c.tables["wallets"].append((d["id"], d["external_customer_id"], cur, rate, priority, expiration, r.line))
    return wallets


def _wallet_transactions(c: Check, wallets: dict[str, Row]) -> None:
    """wallet_transactions.csv: credits floored to 5 decimals, none after the wallet expires."""
    problems = c.problems
    expirations = {w[0]: w[5] for w in c.tables["wallets"]}
    for r in c.rows["wallet_transactions.csv"]:
        d = r.data
        if d["wallet_id"] == "":
            problems.append(f"{r.where()}: wallet_id is required")
        elif d["wallet_id"] not in wallets:
            problems.append(f"{r.where()}: wallet_id {d['wallet_id']!r} does not exist in wallets.csv")
        credits = dec(r, "credits", problems, allow_negative=True)
        if credits is not None:
            floored = credits.quantize(CREDIT_STEP, rounding=ROUND_FLOOR, context=Context(prec=60))
            if credits <= 0:
                problems.append(f"{r.where()}: credits={d['credits']!r} must be above 0 "
                                f"(rule: a transaction adds credits)")
            elif floored == 0:
                problems.append(f"{r.where()}: credits={d['credits']!r} is 0 once floored to 5 decimals "
                                f"(rule: credits > 0; Lago keeps 5 decimals of credits)")
            credits = floored
        if d["kind"] not in WALLET_KINDS:
            problems.append(f"{r.where()}: kind {d['kind']!r} is unknown (rule: one of {sorted(WALLET_KINDS)})")
        created = date_or_datetime(r, "created_at", problems, True)
        expiration = expirations.get(d["wallet_id"])
        if created and expiration and instant(created) > instant(expiration):
            problems.append(f"{r.where()}: created_at {created} is after wallet {d['wallet_id']!r} expiration_at "
                            f"{expiration} (rule: no credits on an expired wallet)")
        c.tables["wallet_transactions"].append((d["wallet_id"], credits, d["kind"], created, r.line))


def _coupons(c: Check) -> dict[str, Row]:
    """coupons.csv: the value the coupon type uses, and its frequency."""
    problems = c.problems
    coupons = c.unique("coupons.csv", "code")
    for r in coupons.values():
        d = r.data
        ctype, frequency = d["coupon_type"], d["frequency"]
        # Only the value the coupon type uses is kept; the other column is ignored, as Lago does.
        amount = rate = duration = None
        if ctype not in COUPON_TYPES:
            problems.append(f"{r.where()}: coupon_type {ctype!r} is unknown (rule: one of {sorted(COUPON_TYPES)})")
        elif ctype == "fixed_amount":
            amount = dec(r, "amount", problems, allow_negative=True)
            if amount is not None and amount <= 0:
                problems.append(f"{r.where()}: amount={d['amount']!r} must be above 0 "
                                f"(rule: a fixed_amount coupon needs amount > 0)")
        else:
            rate = dec(r, "percentage_rate", problems, allow_negative=True)
            if rate is not None and not Decimal(0) < rate <= Decimal(100):
                problems.append(f"{r.where()}: percentage_rate={d['percentage_rate']!r} must be above 0 and at "
                                f"most 100 (rule: a percentage coupon needs 0 < percentage_rate <= 100)")
        if frequency not in COUPON_FREQUENCIES:
            problems.append(f"{r.where()}: frequency {frequency!r} is unknown "
                            f"(rule: one of {sorted(COUPON_FREQUENCIES)})")
        elif frequency == "recurring":
            duration = whole(r, "frequency_duration", problems, 1, None,
                              "a recurring coupon needs frequency_duration > 0")
        c.tables["coupons"].append((d["code"], ctype, amount, rate, frequency, duration))
    return coupons


def _applied_coupons(c: Check, coupons: dict[str, Row], customers: dict[str, Row]) -> None:
    """applied_coupons.csv: once per customer and coupon, a bounded number per customer."""
    problems = c.problems
    applied_pairs: dict[tuple[str, str], Row] = {}
    coupons_of: dict[str, int] = {}
    for r in c.rows["applied_coupons.csv"]:
        d = r.data
        code, cust = d["coupon_code"], d["external_customer_id"]
        if code not in coupons:
            problems.append(f"{r.where()}: coupon_code {code!r} does not exist in coupons.csv")
        if cust not in customers:
            problems.append(f"{r.where()}: external_customer_id {cust!r} does not exist in customers.csv")
        applied = date_or_datetime(r, "applied_at", problems, True)
        if (code, cust) in applied_pairs:
            problems.append(f"{r.where()}: coupon {code!r} is already applied to customer {cust!r} "
                            f"(row {applied_pairs[(code, cust)].line}; rule: a coupon applies once per customer)")
        else:
            applied_pairs[(code, cust)] = r
        coupons_of[cust] = coupons_of.get(cust, 0) + 1
        if coupons_of[cust] > MAX_APPLIED_COUPONS:
            problems.append(f"{r.where()}: customer {cust!r} has more than {MAX_APPLIED_COUPONS} applied coupons "
                            f"(rule: at most {MAX_APPLIED_COUPONS} applied coupons per customer; billing stacks "
                            f"at most {MAX_APPLIED_COUPONS})")
        c.tables["applied_coupons"].append((code, cust, applied, r.line))


def _fx_rates(c: Check) -> None:
    """fx_rates.csv: positive rates, one per date and currency."""
    problems = c.problems
    fx_seen: dict[tuple[str, str], Row] = {}
    for r in c.rows["fx_rates.csv"]:
        d = r.data
        rate_date = date_or_datetime(r, "date", problems, True, date_only=True)
        cur = d["currency"].upper()
        if not is_known_currency(cur):
            problems.append(f"{r.where()}: currency {d['currency']!r} is not a known ISO 4217 code")
        rate = dec(r, "rate", problems, allow_negative=True)
        if rate is not None and rate <= 0:
            problems.append(f"{r.where()}: rate={d['rate']!r} must be above 0 (rule: an exchange rate is positive)")
        if rate_date is not None:
            if (rate_date, cur) in fx_seen:
                problems.append(f"{r.where()}: duplicate date and currency ({rate_date}, {cur}) "
                                f"(first at row {fx_seen[(rate_date, cur)].line})")
            else:
                fx_seen[(rate_date, cur)] = r
        c.tables["fx_rates"].append((rate_date, cur, rate))


def validate(folder: Path) -> Catalog:
    """Read every catalog file, check every rule, return flattened tables or raise CatalogError."""
    folder = Path(folder)
    problems: list[str] = []
    c = Check(rows={name: read(folder, name, problems) for name in (*FILES, *OPTIONAL_FILES)},
               problems=problems, tables={k: [] for k in SCHEMAS})
    # in this order: a file's checks look up the files before it, and problems read top down
    taxes = _taxes(c)
    customers = _customers(c, taxes)
    metrics, metric_filters = _billable_metrics(c)
    plans = _plans(c, taxes)
    _charges(c, plans, metrics, metric_filters, taxes)
    _subscriptions(c, customers, plans)
    _usage_thresholds(c, plans)
    wallets = _wallets(c, customers)
    _wallet_transactions(c, wallets)
    coupons = _coupons(c)
    _applied_coupons(c, coupons, customers)
    _fx_rates(c)
    if problems:
        raise CatalogError(problems)
    cat = Catalog()
    for name, data in c.tables.items():
        cat.tables[name] = (SCHEMAS[name], data)
    return cat

MONEY = "decimal(38,10)"
SCHEMAS: dict[str, list[tuple[str, str]]] = {
    "customers": [("external_id", "varchar"), ("name", "varchar"), ("currency", "varchar"),
                  ("timezone", "varchar"), ("tax_codes", "varchar")],
    "billable_metrics": [("code", "varchar"), ("name", "varchar"), ("aggregation_type", "varchar"),
                         ("field_name", "varchar"), ("recurring", "boolean"), ("rounding_function", "varchar"),
                         ("rounding_precision", "integer")],
    "billable_metric_filters": [("billable_metric_code", "varchar"), ("filter_key", "varchar"),
                                ("filter_value", "varchar")],
    "plans": [("code", "varchar"), ("name", "varchar"), ("interval", "varchar"), ("amount", MONEY),
              ("currency", "varchar"), ("pay_in_advance", "boolean"), ("trial_period", "integer"),
              ("minimum_commitment", MONEY)],
    "charges": [("charge_id", "varchar"), ("plan_code", "varchar"), ("billable_metric_code", "varchar"),
                ("charge_model", "varchar"), ("pay_in_advance", "boolean"), ("min_amount", MONEY),
                ("invoice_display_name", "varchar"), ("properties", "varchar"),
                ("pricing_group_key_1", "varchar"), ("pricing_group_key_2", "varchar"),
                ("pricing_group_key_3", "varchar")],
    "charge_buckets": [("charge_id", "varchar"), ("filter_index", "integer"), ("invoice_display_name", "varchar"),
                       ("amount", MONEY), ("package_size", "bigint"), ("free_units", MONEY), ("rate", MONEY),
                       ("fixed_amount", MONEY), ("free_units_per_events", "bigint"),
                       ("free_units_per_total_aggregation", MONEY), ("per_transaction_min_amount", MONEY),
                       ("per_transaction_max_amount", MONEY), ("is_adjacent", "boolean")],
    "charge_tiers": [("charge_id", "varchar"), ("filter_index", "integer"), ("tier_index", "integer"),
                     ("from_value", MONEY), ("to_value", MONEY), ("per_unit_amount", MONEY),
                     ("flat_amount", MONEY), ("rate", MONEY)],
    "charge_filter_values": [("charge_id", "varchar"), ("filter_index", "integer"), ("filter_key", "varchar"),
                             ("filter_value", "varchar")],
    "subscriptions": [("external_id", "varchar"), ("external_customer_id", "varchar"), ("plan_code", "varchar"),
                      ("started_at", "varchar"), ("ending_at", "varchar"), ("billing_time", "varchar")],
    "usage_thresholds": [("plan_code", "varchar"), ("amount", MONEY), ("recurring", "boolean"),
                         ("line_number", "integer")],
    "taxes": [("tax_code", "varchar"), ("name", "varchar"), ("rate", MONEY), ("applied_by_default", "boolean")],
    "customer_taxes": [("external_customer_id", "varchar"), ("tax_code", "varchar")],
    "plan_taxes": [("plan_code", "varchar"), ("tax_code", "varchar")],
    "charge_taxes": [("charge_id", "varchar"), ("tax_code", "varchar")],
    "wallets": [("wallet_id", "varchar"), ("external_customer_id", "varchar"), ("currency", "varchar"),
                ("rate_amount", MONEY), ("priority", "integer"), ("expiration_at", "varchar"),
                ("line_number", "integer")],
    "wallet_transactions": [("wallet_id", "varchar"), ("credits", MONEY), ("kind", "varchar"),
                            ("created_at", "varchar"), ("line_number", "integer")],
    "coupons": [("coupon_code", "varchar"), ("coupon_type", "varchar"), ("amount", MONEY),
                ("percentage_rate", MONEY), ("frequency", "varchar"), ("frequency_duration", "integer")],
    "applied_coupons": [("coupon_code", "varchar"), ("external_customer_id", "varchar"), ("applied_at", "varchar"),
                        ("line_number", "integer")],
    "fx_rates": [("rate_date", "varchar"), ("currency", "varchar"), ("rate", MONEY)],
}


def load(con: duckdb.DuckDBPyConnection, folder: Path) -> dict[str, int]:
    return write(con, validate(folder))
