"""The README's checklist, done: a new charge model is one macro and one registry entry, so is a
new aggregation, and a new plan is catalog rows only. In a copy of the project, a throw-away
model (a flat fee per *complete* package of N units above a free allowance) and a throw-away
aggregation (the days of the period with usage) are added that way and billed through
`tally run` to figures worked out by hand."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from decimal import Decimal as D
from pathlib import Path

from tests.helpers import REPO, rows
from tests.unit.test_extend_pricing import CATALOG

MACRO = """{#- package_floor: a flat `amount` per complete package of `package_size` units above
    `free_units`: floor((units - free_units) / package_size) * amount. -#}
{% macro default__charge_package_floor(usage, buckets, tiers, events) -%}
select {{ tally.fee_grain('u') }},
    case when u.units <= b.free_units then {{ tally.to_num('0') }}
        else floor((u.units - b.free_units) / b.package_size) * b.amount
    end as amount
from {{ usage }} as u
inner join {{ buckets }} as b
    on u.charge_id = b.charge_id and u.filter_index = b.filter_index
where u.charge_model = 'package_floor'
{%- endmacro %}
"""
REGISTRY_LINE = ("    package_floor: {priced_by: units, properties: "
                 "{amount: money, package_size: positive_whole, free_units: \"money=0\"}}\n")

AGGREGATION_MACRO = """{#- active_days: the customer's local days of the period with at least one event. -#}
{% macro default__aggregation_active_days_agg(days, ids) -%}
select external_subscription_id, period_index, charge_id, filter_index, group_key,
    count(distinct case when is_in_period then usage_date end) as units
from {{ days }} as days
group by 1, 2, 3, 4, 5
{%- endmacro %}
"""
AGGREGATION_LINE = "    active_days_agg: {field: none}\n"

# API calls in October per subscription: around the allowance (150) and a package edge (350)
CALLS = {"sub_a": 420, "sub_b": 349, "sub_c": 150, "sub_d": 0}
# active_days events (UTC customers): sub_a is active Oct 1 (twice), 2 and 31; its Nov 1 event
# is the next period's; sub_b on Oct 15 only
ACTIVE = {"sub_a": ["2026-10-01T00:00:00Z", "2026-10-01T23:59:59Z", "2026-10-02T08:00:00Z",
                    "2026-10-31T23:30:00Z", "2026-11-01T00:00:00Z"],
          "sub_b": ["2026-10-15T10:00:00Z"]}


def _project_copy(dest: Path) -> Path:
    ignore = shutil.ignore_patterns("target", "logs", ".venv", "__pycache__", "landing", "*.duckdb*")
    for name in ("orchestration", "expectations", "dbt_project", "seeds"):
        shutil.copytree(REPO / name, dest / name, ignore=ignore)
    macro = dest / "dbt_project" / "macros" / "charge_models" / "package_floor.sql"
    macro.write_text(MACRO)
    (dest / "dbt_project" / "macros" / "aggregations" / "active_days_agg.sql").write_text(AGGREGATION_MACRO)
    project = dest / "dbt_project" / "dbt_project.yml"
    text = project.read_text()
    for anchor, line in (("  charge_models:\n", REGISTRY_LINE), ("  aggregations:\n", AGGREGATION_LINE)):
        start = text.index(anchor) + len(anchor)
        end = start
        while text[end:].startswith("    "):  # the registry's entries and their continuation lines
            end = text.index("\n", end) + 1
        text = text[:end] + line + text[end:]
    project.write_text(text)
    return dest


def test_a_charge_model_and_an_aggregation_are_one_macro_and_one_registry_entry_each(tmp_path: Path):
    copy = _project_copy(tmp_path / "project")
    catalog, landing = tmp_path / "catalog", tmp_path / "landing"
    catalog.mkdir()
    landing.mkdir()
    for name, text in CATALOG.items():
        (catalog / name).write_text(text)
    with (landing / "calls.jsonl").open("w") as fh:
        for sub, n in CALLS.items():
            for i in range(n):
                fh.write(json.dumps({"transaction_id": f"{sub}_{i}", "external_subscription_id": sub,
                                     "code": "api_calls", "timestamp": f"2026-10-{1 + i % 28:02d}T12:00:00Z",
                                     "properties": {}}) + "\n")
        for sub, stamps in ACTIVE.items():
            for i, stamp in enumerate(stamps):
                fh.write(json.dumps({"transaction_id": f"{sub}_day_{i}", "external_subscription_id": sub,
                                     "code": "active_days", "timestamp": stamp, "properties": {}}) + "\n")
    warehouse = tmp_path / "w.duckdb"
    env = {**os.environ, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false", "DAGSTER_DISABLE_TELEMETRY": "1"}
    env.pop("DAGSTER_HOME", None)
    proc = subprocess.run([sys.executable, "-m", "orchestration.cli", "run", "--catalog", str(catalog),
                           "--landing", str(landing), "--warehouse", str(warehouse), "--period", "2026-10",
                           "--publish", str(tmp_path / "published"), "--no-pages"],
                          check=False, cwd=copy, env=env, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    fees = dict(rows(warehouse, """select i.external_subscription_id || ':' || l.charge_id, l.amount
                                   from billing.invoice_lines as l
                                   inner join billing.invoices as i on l.invoice_id = i.invoice_id
                                   where l.fee_type = 'charge'"""))
    assert fees == {
        # no allowance (free_units null = 0): floor(units / 100) × 5.00
        "sub_a:c_packs": D("20.00"), "sub_b:c_packs": D("15.00"), "sub_c:c_packs": D("5.00"),
        "sub_d:c_packs": D("0.00"),
        # 150 free: 420 → floor(270 / 100) = 2 packs; 349 → 1; 150 → 0; no calls → 0
        "sub_a:c_packs_eu": D("10.00"), "sub_b:c_packs_eu": D("5.00"), "sub_c:c_packs_eu": D("0.00"),
        "sub_d:c_packs_eu": D("0.00"),
        # active days × 1.00: sub_a 3 (Oct 1, 2, 31), sub_b 1, the others none
        "sub_a:c_days": D("3.00"), "sub_b:c_days": D("1.00"), "sub_c:c_days": D("0.00"), "sub_d:c_days": D("0.00"),
    }
    totals = dict(rows(warehouse, "select external_subscription_id, total_amount from billing.invoices"))
    assert totals == {"sub_a": D("53.00"), "sub_b": D("41.00"), "sub_c": D("25.00"), "sub_d": D("20.00")}
