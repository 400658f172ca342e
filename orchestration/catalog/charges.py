"""charges.csv: plan, metric, charge model and its properties (one price bucket for the charge
and one per charge filter, their ranges as tiers), filters, group keys and tax codes. Lago's JSON
`properties` are flattened into rows so that every dbt model stays plain SQL."""
from __future__ import annotations

import json
from decimal import Decimal
from typing import NamedTuple

from orchestration import aggregations, charge_models
from orchestration.catalog_kit.cells import boolean, codes, dec, json_cell
from orchestration.catalog_kit.check import Check
from orchestration.catalog_kit.files import Row
from orchestration.catalog_kit.ranges import ranges as _ranges
from orchestration.catalog_kit.ranges import unread_properties as _unread_properties
from orchestration.catalog_kit.tables import BigInt, Flag, Int, Money, OptText, Text
from orchestration.lago_optional import is_unset

ALL_VALUES = "__ALL_FILTER_VALUES__"
MAX_GROUP_KEYS = 3


class Charge(NamedTuple):
    table = "charges"
    charge_id: Text
    plan_code: Text
    billable_metric_code: Text
    charge_model: Text
    pay_in_advance: Flag
    min_amount: Money  # null: no minimum (0 too, as in Lago)
    invoice_display_name: Text
    properties: Text  # the Lago JSON as written, keys sorted
    pricing_group_key_1: OptText
    pricing_group_key_2: OptText
    pricing_group_key_3: OptText
    prorated: Flag  # Lago charge.prorated: units weighted by the share of the period each is active
    invoiceable: Flag  # Lago charge.invoiceable (pay_in_advance only): false = fees recorded, no invoice
    instant_invoice_grouping: Text  # pay_in_advance + invoiceable: event (Lago) or day (decision 23)


class ChargeBucket(NamedTuple):
    """One price bucket: the charge's own properties (filter_index 0) or one charge filter's. The
    fields from amount to per_transaction_max_amount are the Lago properties a model may read."""
    table = "charge_buckets"
    charge_id: Text
    filter_index: Int
    invoice_display_name: Text
    amount: Money
    package_size: BigInt
    free_units: Money
    rate: Money
    fixed_amount: Money
    free_units_per_events: BigInt
    free_units_per_total_aggregation: Money
    per_transaction_min_amount: Money
    per_transaction_max_amount: Money
    is_adjacent: Flag  # Lago's "adjacent model": every range starts exactly where the previous one ends


class ChargeTier(NamedTuple):
    table = "charge_tiers"
    charge_id: Text
    filter_index: Int
    tier_index: Int
    from_value: Money
    to_value: Money  # null: open-ended (the last range)
    per_unit_amount: Money
    flat_amount: Money
    rate: Money


class ChargeFilterValue(NamedTuple):
    table = "charge_filter_values"
    charge_id: Text
    filter_index: Int
    filter_key: Text
    filter_value: Text


class ChargeTax(NamedTuple):
    table = "charge_taxes"
    charge_id: Text
    tax_code: Text


# The charge model properties a bucket stores (a property named only in the registry is checked, not stored).
BUCKET_PROPERTIES = ChargeBucket._fields[ChargeBucket._fields.index("amount"):ChargeBucket._fields.index("is_adjacent")]


def check(c: Check, plans: dict[str, Row], metrics: dict[str, Row],
          metric_filters: dict[str, dict[str, list[str]]], taxes: dict[str, Row]) -> None:
    """Every charge, its buckets, tiers, filter values and taxes."""
    problems = c.problems
    for r in c.unique("charges.csv", "id").values():
        d = r.data
        if d["plan_code"] not in plans:
            problems.append(f"{r.where()}: plan_code {d['plan_code']!r} does not exist in plans.csv")
        metric = metrics.get(d["billable_metric_code"])
        if metric is None:
            problems.append(f"{r.where()}: billable_metric_code {d['billable_metric_code']!r} does not exist "
                            f"in billable_metrics.csv")
        for code in codes(r, "tax_codes", taxes, problems):
            c.add(ChargeTax(d["id"], code))
        # what does not depend on the charge model first: an unknown model hides none of it
        pay_in_advance = boolean(r, "pay_in_advance", problems)
        min_amount = dec(r, "min_amount", problems, required=False) or None  # 0: no minimum, as in Lago
        registered = charge_models.registry()
        if d["charge_model"] not in registered:
            problems.append(f"{r.where()}: charge_model {d['charge_model']!r} is unknown "
                            f"(rule: one of {sorted(registered)})")
            continue
        model = registered[d["charge_model"]]
        agg = metric.data["aggregation_type"] if metric else None
        if agg in model.refuses or (agg is not None and model.only and agg not in model.only):
            rule = f"rule: only {', '.join(sorted(model.only))}, as Lago" if model.only else "Lago rule"
            problems.append(f"{r.where()}: {model.name} cannot price a {agg} metric ({rule})")
        elif not model.recurring and metric is not None and boolean(metric, "recurring", []):
            problems.append(f"{r.where()}: {model.name} on a recurring metric ({d['billable_metric_code']!r}) is not "
                            f"supported yet (rule: its metric must not be recurring)")
        prorated = boolean(r, "prorated", problems)
        invoiceable = boolean(r, "invoiceable", problems, default=True)
        grouping = d.get("instant_invoice_grouping", "").strip().lower()
        if pay_in_advance:
            _check_in_advance(c, r, model, metric, min_amount)
        elif not invoiceable:
            problems.append(f"{r.where()}: invoiceable=false needs pay_in_advance=true (rule: Lago charge "
                            f"invoiceable must_be_true_unless_pay_in_advance)")
        if grouping not in ("", "event", "day"):
            problems.append(f"{r.where()}: instant_invoice_grouping={grouping!r} is unknown (rule: event or day)")
        elif grouping and not pay_in_advance:
            problems.append(f"{r.where()}: instant_invoice_grouping needs pay_in_advance=true (rule: it groups the "
                            f"invoices of instant fees)")
        if prorated:
            _check_prorated(c, r, model, metric, pay_in_advance)
        props = json_cell(r, "properties", problems, dict)
        keys = _group_keys(r, props, problems)
        _bucket(c, r, model, props, 0, d["invoice_display_name"])
        _charge_filters(c, r, model, props, metric_filters.get(d["billable_metric_code"], {}))
        c.add(Charge(d["id"], d["plan_code"], d["billable_metric_code"], model.name, pay_in_advance, min_amount,
                     d["invoice_display_name"], json.dumps(props, sort_keys=True), *keys, prorated,
                     invoiceable, grouping or "event"))


def _check_in_advance(c: Check, r: Row, model: charge_models.ChargeModel, metric: Row | None,
                      min_amount: Decimal | None) -> None:
    """A pay_in_advance charge (decision 23): what Lago refuses (charge.rb validate_pay_in_advance,
    validate_min_amount_cents; billable_metric.rb AGGREGATION_TYPES_PAYABLE_IN_ADVANCE) and what
    Tally does not bill in advance yet. On a recurring metric (sum, unique count) each period
    also opens with an in-advance fee for the units it carries; prorated is checked by
    _check_prorated (Lago: in advance, standard only)."""
    problems = c.problems
    lago = "Lago charge.rb validate_pay_in_advance"
    if model.in_advance == "refused":
        problems.append(f"{r.where()}: a pay_in_advance {model.name} charge is refused (rule: {lago}: "
                        f"invalid_aggregation_type_or_charge_model)")
    elif model.in_advance is None:
        priced = sorted(n for n, m in charge_models.registry().items() if m.in_advance in ("units", "events"))
        problems.append(f"{r.where()}: pay_in_advance {model.name} charges are not supported yet (rule: "
                        f"pay_in_advance needs one of {priced})")
    if metric is not None:
        agg = aggregations.registry().get(metric.data["aggregation_type"])
        if agg is not None and not agg.in_advance:
            allowed = sorted(n for n, a in aggregations.registry().items() if a.in_advance)
            problems.append(f"{r.where()}: a pay_in_advance charge cannot price a {agg.name} metric (rule: {lago}, "
                            f"billable_metric.rb AGGREGATION_TYPES_PAYABLE_IN_ADVANCE: one of {allowed})")
        elif boolean(metric, "recurring", []):
            _check_in_advance_recurring(c, r, model, agg)
    if min_amount:
        problems.append(f"{r.where()}: min_amount on a pay_in_advance charge is refused (rule: Lago charge.rb "
                        f"validate_min_amount_cents: not_compatible_with_pay_in_advance)")


def _check_in_advance_recurring(c: Check, r: Row, model: charge_models.ChargeModel,
                                agg: aggregations.Aggregation | None) -> None:
    """pay_in_advance on a recurring metric: Lago allows it for every in-advance model; Tally bills
    the aggregations with a `_carried` form and the models priced by units (the period's opening
    fee prices the carried units with the model's own macro), and refuses the rest as not
    supported yet."""
    problems, d = c.problems, r.data
    metric_code = d["billable_metric_code"]
    if agg is not None and not agg.carried:
        problems.append(f"{r.where()}: pay_in_advance on a recurring {agg.name} metric ({metric_code!r}) is not "
                        f"supported yet (rule: a recurring metric in advance needs one of "
                        f"{sorted(n for n, a in aggregations.registry().items() if a.carried)})")
    if model.in_advance == "events":
        problems.append(f"{r.where()}: pay_in_advance {model.name} charges on a recurring metric ({metric_code!r}) "
                        f"are not supported yet (rule: a recurring metric in advance needs a model priced by "
                        f"units: each period's opening fee prices the units it carries)")
    thresholds = [t for t in c.rows.get("usage_thresholds.csv", []) if t.data.get("plan_code") == d["plan_code"]]
    if thresholds:
        problems.append(f"{r.where()}: pay_in_advance charges on a recurring metric ({metric_code!r}) on a plan with "
                        f"usage thresholds ({d['plan_code']!r}, usage_thresholds.csv row {thresholds[0].line}) are "
                        f"not supported yet (rule: the closing invoice's progressive-billing credit is capped by its "
                        f"charge lines, which would count the next period's in-advance fee)")


def _check_prorated(c: Check, r: Row, model: charge_models.ChargeModel, metric: Row | None,
                    pay_in_advance: bool) -> None:
    """Lago's charge.rb validate_prorated: a prorated charge needs a recurring metric that is not a
    weighted sum, and in arrears standard, graduated or volume, in advance standard only (the
    registry's `prorated_in_advance`). Tally also needs the aggregation's prorated form (the
    registry's `prorated`: sum_agg, unique_count_agg) and refuses a plan with usage thresholds (not
    built)."""
    problems, d = c.problems, r.data
    rule = ("rule: prorated needs a recurring sum_agg or unique_count_agg metric and the standard, graduated "
            "or volume model in arrears, standard in advance, as Lago's charge.rb validate_prorated")
    if model.prorated is None:
        problems.append(f"{r.where()}: prorated {model.name} charges are refused ({rule})")
    elif pay_in_advance and not model.prorated_in_advance:
        problems.append(f"{r.where()}: prorated pay_in_advance {model.name} charges are refused ({rule})")
    if metric is not None:
        agg = aggregations.registry().get(metric.data["aggregation_type"])
        if not boolean(metric, "recurring", []):
            problems.append(f"{r.where()}: prorated needs a recurring metric; {d['billable_metric_code']!r} "
                            f"is not recurring ({rule})")
        elif agg is not None and not agg.prorated:
            problems.append(f"{r.where()}: prorated cannot price a {agg.name} metric ({rule})")
    thresholds = [t for t in c.rows.get("usage_thresholds.csv", []) if t.data.get("plan_code") == d["plan_code"]]
    if thresholds:
        problems.append(f"{r.where()}: prorated charges on a plan with usage thresholds "
                        f"({d['plan_code']!r}, usage_thresholds.csv row {thresholds[0].line}) are not supported "
                        f"yet (rule: progressive billing does not count prorated units)")


def _group_keys(r: Row, props: dict, problems: list[str]) -> list[str | None]:
    """properties.pricing_group_keys (or Lago's older grouped_by), padded to MAX_GROUP_KEYS with None."""
    group_keys = props.get("pricing_group_keys") or props.get("grouped_by") or []
    if not isinstance(group_keys, list) or not all(isinstance(k, str) for k in group_keys):
        problems.append(f"{r.where()}: properties.pricing_group_keys must be a list of property names")
        group_keys = []
    if len(group_keys) > MAX_GROUP_KEYS:
        problems.append(f"{r.where()}: at most {MAX_GROUP_KEYS} pricing_group_keys are supported")
        group_keys = group_keys[:MAX_GROUP_KEYS]
    return list(group_keys) + [None] * (MAX_GROUP_KEYS - len(group_keys))


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
                c.add(ChargeFilterValue(cid, idx, key, v))
        fprops = f.get("properties") or props
        if not isinstance(fprops, dict):
            problems.append(f"{r.where()}: filters[{idx - 1}].properties must be an object")
            continue
        _bucket(c, r, model, fprops, idx, f.get("invoice_display_name") or "", own=bool(f.get("properties")))


def _bucket(c: Check, row: Row, model: charge_models.ChargeModel, props: dict, filter_index: int,
            display_name: str, own: bool = True) -> None:
    """One price bucket: the charge's own properties (filter 0) or one charge filter's, read as
    the model's registry entry says."""
    problems, charge_id = c.problems, row.data["id"]
    if own:  # a filter without properties of its own takes the charge's: checked once, there
        _unread_properties(c, row, model, props, filter_index)
    values = {prop.name: _property(row, prop, props, problems) for prop in model.properties}
    low, high = (values.get(name) for name in model.ordered) if model.ordered else (None, None)
    if low is not None and high is not None and low > high:
        problems.append(f"{row.where()}: {model.ordered[0]} is above {model.ordered[1]}")
    adjacent = False
    if model.ranges:
        tiers = _ranges(row, props, model.ranges, model.name, model.tier_price, problems)
        adjacent = len(tiers) >= 2 and all(tiers[i].from_value == tiers[i - 1].to_value for i in range(1, len(tiers)))
        for t in tiers:
            c.add(ChargeTier(charge_id, filter_index, t.index, t.from_value, t.to_value,
                             t.price if model.tier_price == "per_unit_amount" else Decimal(0), t.flat_amount,
                             t.price if model.tier_price == "rate" else Decimal(0)))
    c.add(ChargeBucket(charge_id, filter_index, display_name, **{name: values.get(name) for name in BUCKET_PROPERTIES},
                       is_adjacent=adjacent))


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
