"""The charge-model registry (var `charge_models` in dbt_project/dbt_project.yml), as the catalog
validator reads it: which models exist, the Lago properties each reads and how each is checked.
The dbt models read the same entries (macros/charge_models/_registry.sql), so a new charge
model is one macro and one registry entry."""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import cache
from pathlib import Path

import yaml

DBT_PROJECT_FILE = Path(__file__).resolve().parent.parent / "dbt_project" / "dbt_project.yml"
PRICED_BY = {"units", "tiers", "events"}
KINDS = {"money", "whole", "positive_whole"}


@dataclass(frozen=True)
class Property:
    name: str
    kind: str
    default: str | None  # used when the property is absent, null or ""
    optional: bool       # absent -> null (no default)


@dataclass(frozen=True)
class ChargeModel:
    name: str
    priced_by: str
    properties: tuple[Property, ...] = ()
    ranges: str | None = None      # tiers: the properties key of the ranges
    tier_price: str = "per_unit_amount"
    refuses: frozenset[str] = frozenset()
    ordered: tuple[str, ...] = ()
    monotone: bool = False         # amount never falls as units grow (progressive billing's screen)
    only: frozenset[str] = frozenset()  # the only aggregations it prices (empty: any not refused)
    recurring: bool = True         # False: a recurring metric is refused
    prorated: str | None = None    # units / form: a prorated charge may use it (None: refused)
    in_advance: str | None = None  # pay_in_advance: units (price after - before), events, refused (Lago); None: not yet
    prorated_in_advance: bool = False  # a prorated pay_in_advance charge may use it (Lago: standard only)


def _property(model: str, name: str, spec: str) -> Property:
    optional = spec.endswith("?")
    kind, _, default = spec.rstrip("?").partition("=")
    if kind not in KINDS:
        raise ValueError(f"charge model {model}: property {name} has kind {kind!r} (one of {sorted(KINDS)})")
    return Property(name, kind, default or None, optional)


def parse(entries: dict) -> dict[str, ChargeModel]:
    models = {}
    for name, entry in entries.items():
        if entry.get("priced_by") not in PRICED_BY:
            raise ValueError(f"charge model {name}: priced_by must be one of {sorted(PRICED_BY)}")
        if entry.get("prorated") not in (None, "units", "form"):
            raise ValueError(f"charge model {name}: prorated must be units or form")
        if entry.get("in_advance") not in (None, "units", "events", "refused"):
            raise ValueError(f"charge model {name}: in_advance must be units, events or refused")
        if entry["priced_by"] == "tiers" and not entry.get("ranges"):
            raise ValueError(f"charge model {name}: a tiers model names its ranges key")
        models[name] = ChargeModel(
            name, entry["priced_by"],
            tuple(_property(name, p, str(spec)) for p, spec in (entry.get("properties") or {}).items()),
            entry.get("ranges"), entry.get("tier_price", "per_unit_amount"),
            frozenset(entry.get("refuses") or ()), tuple(entry.get("ordered") or ()),
            bool(entry.get("monotone", False)), frozenset(entry.get("only") or ()),
            bool(entry.get("recurring", True)), entry.get("prorated"), entry.get("in_advance"),
            bool(entry.get("prorated_in_advance", False)))
    return models


@cache
def registry(project_file: Path = DBT_PROJECT_FILE) -> dict[str, ChargeModel]:
    return parse(yaml.safe_load(project_file.read_text())["vars"]["charge_models"])


def whole(raw, positive: bool) -> int:
    """A whole number (an int, or a text/decimal with no fraction); ValueError otherwise."""
    try:
        if isinstance(raw, bool):
            raise ValueError  # noqa: TRY004 -- callers catch ValueError: a bool is "not a whole number"
        value = int(raw)
        if Decimal(str(raw)) != value or value < (1 if positive else 0):
            raise ValueError
    except (TypeError, ValueError, OverflowError, InvalidOperation):
        raise ValueError(raw) from None
    return value
