"""What charges.csv and fixed_charges.csv share about a charge model's properties: Lago's ranges
(graduated, volume, graduated_percentage), checked the same way for both, and the warning for a
property key the model does not read."""
from __future__ import annotations

from decimal import Decimal
from typing import NamedTuple

from orchestration import charge_models
from orchestration.catalog_kit.cells import dec
from orchestration.catalog_kit.check import Check
from orchestration.catalog_kit.files import Row
from orchestration.lago_optional import is_unset

# A tier's prices when unset (absent, null or ""): per_unit_amount and flat_amount are 0, as in
# Lago's default ranges; a graduated_percentage tier's rate has no default (Lago: "the rate is
# the only mandatory value").
TIER_DEFAULTS = {"per_unit_amount": "0", "flat_amount": "0"}


class Range(NamedTuple):
    index: int  # from 1
    from_value: Decimal
    to_value: Decimal | None
    price: Decimal
    flat_amount: Decimal


# properties every model reads: the pricing group keys (Lago's pricing_group_keys, or grouped_by)
GROUP_KEYS = ("pricing_group_keys", "grouped_by")


def unread_properties(c: Check, row: Row, model: charge_models.ChargeModel, props: dict, filter_index: int) -> None:
    """A property key the model does not read, set to a value, is a warning: Lago drops it too
    (charges/filter_charge_model_properties_service.rb keeps each model's own keys), so it bills
    nothing, but it may be a typo or another model's price."""
    read = {prop.name for prop in model.properties} | set(GROUP_KEYS) | ({model.ranges} if model.ranges else set())
    where = "properties" if filter_index == 0 else f"filters[{filter_index - 1}].properties"
    for key, value in props.items():
        if key not in read and not is_unset(value) and value not in ([], {}):
            c.warnings.append(f"{row.where()}: {where}.{key} is ignored ({model.name} does not read it; Lago "
                              f"drops it too)")


def _tier_value(row: Row, key: str, i: int, r: dict, col: str, problems: list[str]) -> Decimal | None:
    raw = r.get(col)
    return dec(row, f"{key}[{i}].{col}", problems, value=TIER_DEFAULTS.get(col) if is_unset(raw) else raw)


def ranges(row: Row, props: dict, key: str, model: str, value_col: str, problems: list[str]) -> list[Range]:
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
            out.append(Range(i + 1, frm, to, price, flat))
        prev = (to, is_open) if readable else None
    return out
