"""The aggregation registry (var `aggregations` in dbt_project/dbt_project.yml), as the catalog
validator reads it: which aggregation types exist, which need a field and which may be
recurring. The dbt models read the same entries (macros/aggregations/_registry.sql), so a new
aggregation is one macro file and one registry entry."""
from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

from orchestration.charge_models import DBT_PROJECT_FILE

FIELDS = {"none", "number", "text"}


@dataclass(frozen=True)
class Aggregation:
    name: str
    field: str            # none: counts events; number: a decimal property; text: an id
    recurring: bool       # a metric with it may be recurring
    prorated: bool = False  # a prorated charge may price it (recurring metrics only)
    in_advance: bool = False  # a pay_in_advance charge may price it (Lago AGGREGATION_TYPES_PAYABLE_IN_ADVANCE)
    carried: bool = False  # in advance on a recurring metric: its `_carried` form (what a period opens with)


def parse(entries: dict) -> dict[str, Aggregation]:
    out = {}
    for name, entry in entries.items():
        field = str(entry.get("field", "none"))
        if field not in FIELDS:
            raise ValueError(f"aggregation {name}: field must be one of {sorted(FIELDS)}")
        out[name] = Aggregation(name, field, bool(entry.get("recurring", False)), bool(entry.get("prorated", False)),
                                bool(entry.get("in_advance", False)), bool(entry.get("carried", False)))
    return out


@cache
def registry(project_file: Path = DBT_PROJECT_FILE) -> dict[str, Aggregation]:
    return parse(yaml.safe_load(project_file.read_text())["vars"]["aggregations"])
