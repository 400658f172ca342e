"""billable_metrics.csv: aggregation, rounding and the filters a charge may use."""
from __future__ import annotations

import re
from typing import NamedTuple

from orchestration import aggregations
from orchestration.catalog_kit.cells import boolean, json_cell
from orchestration.catalog_kit.check import Check
from orchestration.catalog_kit.files import Row
from orchestration.catalog_kit.tables import Flag, Int, OptText, Text
from orchestration.lago_optional import metric_filters

ROUNDING_FUNCTIONS = {"round", "ceil", "floor"}
# macros/cross_db/numbers.sql apply_unit_rounding rounds to these precisions
MIN_PRECISION, MAX_PRECISION = -9, 10


class BillableMetric(NamedTuple):
    table = "billable_metrics"
    code: Text
    name: Text
    aggregation_type: Text
    field_name: OptText
    recurring: Flag
    rounding_function: OptText
    rounding_precision: Int  # null without a rounding function


class BillableMetricFilter(NamedTuple):
    table = "billable_metric_filters"
    billable_metric_code: Text
    filter_key: Text
    filter_value: Text


def check(c: Check) -> tuple[dict[str, Row], dict[str, dict[str, list[str]]]]:
    """The metrics by code; also each metric's declared filters (key -> allowed values)."""
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
        declared[d["code"]] = _filters(c, r)
        c.add(BillableMetric(d["code"], d["name"], agg, d["field_name"] or None, recurring, fn,
                             precision if fn else None))
    return metrics, declared


def _filters(c: Check, r: Row) -> dict:
    """A metric's filters (SPEC §3's object or Lago's list), each allowed value one row."""
    filters = json_cell(r, "filters", c.problems, dict, convert=metric_filters)
    for key, values in filters.items():
        if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
            c.problems.append(f"{r.where()}: filters[{key!r}] must be a list of strings")
            continue
        for v in values:
            c.add(BillableMetricFilter(r.data["code"], key, v))
    return filters


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
