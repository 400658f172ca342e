"""fixed_charges.csv and fixed_charge_units.csv: Lago's fixed charges (app/models/fixed_charge.rb),
contracted units of an add-on billed every period of a plan's subscriptions without events, and
each subscription's units over time (Lago's fixed charge events: the plan's units from the start,
then an override from its effective day). Rules and Lago files: docs/decisions.md 24."""
from __future__ import annotations

import json
from decimal import Decimal
from typing import NamedTuple

from orchestration import charge_models
from orchestration.catalog_kit.cells import boolean, codes, date_or_datetime, dec, json_cell
from orchestration.catalog_kit.check import Check
from orchestration.catalog_kit.files import Row
from orchestration.catalog_kit.ranges import ranges, unread_properties
from orchestration.catalog_kit.tables import Flag, Int, Money, Text

# Lago FixedCharge::CHARGE_MODELS
MODELS = ("standard", "graduated", "volume")
LAGO_MODEL = "app/models/fixed_charge.rb"


class FixedCharge(NamedTuple):
    table = "fixed_charges"
    fixed_charge_id: Text
    plan_code: Text
    add_on_code: Text
    charge_model: Text
    amount: Money  # standard's properties.amount (null for graduated and volume)
    units: Money  # the plan's units, from each subscription's start (Lago fixed_charge.units)
    pay_in_advance: Flag
    prorated: Flag
    invoice_display_name: Text  # the add-on's name when empty
    properties: Text  # the Lago JSON as written, keys sorted


class FixedChargeTier(NamedTuple):
    table = "fixed_charge_tiers"
    fixed_charge_id: Text
    tier_index: Int
    from_value: Money
    to_value: Money  # null: open-ended (the last range)
    per_unit_amount: Money
    flat_amount: Money
    is_adjacent: Flag  # every range starts where the previous one ends (Lago's "adjacent model")


class FixedChargeTax(NamedTuple):
    table = "fixed_charge_taxes"
    fixed_charge_id: Text
    tax_code: Text


class FixedChargeUnits(NamedTuple):
    table = "fixed_charge_units"
    external_subscription_id: Text
    fixed_charge_id: Text
    units: Money
    effective_on: Text  # the customer's local day the units apply from (ISO date)
    line_number: Int


def check(c: Check, plans: dict[str, Row], add_ons: dict[str, Row], taxes: dict[str, Row]) -> dict[str, Row]:
    """The fixed charges by id."""
    problems = c.problems
    registered = charge_models.registry()
    fixed = c.unique("fixed_charges.csv", "id")
    for r in fixed.values():
        d = r.data
        plan = plans.get(d["plan_code"])
        if plan is None:
            problems.append(f"{r.where()}: plan_code {d['plan_code']!r} does not exist in plans.csv")
        add_on = add_ons.get(d["add_on_code"])
        if add_on is None:
            problems.append(f"{r.where()}: add_on_code {d['add_on_code']!r} does not exist in add_ons.csv")
        for code in codes(r, "tax_codes", taxes, problems):
            c.add(FixedChargeTax(d["id"], code))
        units = _units(r, problems)
        pay_in_advance = boolean(r, "pay_in_advance", problems)
        prorated = boolean(r, "prorated", problems)
        model = d["charge_model"]
        if model not in MODELS:
            problems.append(f"{r.where()}: charge_model {model!r} is not a fixed charge model (rule: one of "
                            f"{', '.join(MODELS)}, as Lago's {LAGO_MODEL})")
            continue
        if pay_in_advance and model == "volume":
            problems.append(f"{r.where()}: a volume fixed charge cannot be paid in advance (rule: Lago's "
                            f"{LAGO_MODEL} validate_pay_in_advance)")
        if prorated and pay_in_advance and model == "graduated":
            problems.append(f"{r.where()}: a prorated graduated fixed charge cannot be paid in advance (rule: "
                            f"Lago's {LAGO_MODEL} validate_prorated)")
        thresholds = [t for t in c.rows.get("usage_thresholds.csv", []) if t.data.get("plan_code") == d["plan_code"]]
        if thresholds:
            problems.append(f"{r.where()}: fixed charges on a plan with usage thresholds ({d['plan_code']!r}, "
                            f"usage_thresholds.csv row {thresholds[0].line}) are not supported yet (rule: whether "
                            f"a fixed charge counts in lifetime usage is not settled; progressive billing counts "
                            f"usage charges only)")
        props = json_cell(r, "properties", problems, dict)
        entry = registered[model]
        unread_properties(c, r, entry, props, 0)
        amount = None
        if model == "standard":
            amount = dec(r, "properties.amount", problems, value=props.get("amount"))
        else:
            tiers = ranges(r, props, entry.ranges, model, "per_unit_amount", problems)
            adjacent = len(tiers) >= 2 and all(tiers[i].from_value == tiers[i - 1].to_value
                                               for i in range(1, len(tiers)))
            for t in tiers:
                c.add(FixedChargeTier(d["id"], t.index, t.from_value, t.to_value, t.price, t.flat_amount, adjacent))
        name = d["invoice_display_name"] or (add_on.data["name"] if add_on else "")
        c.add(FixedCharge(d["id"], d["plan_code"], d["add_on_code"], model, amount, units, pay_in_advance, prorated,
                          name, json.dumps(props, sort_keys=True)))
    return fixed


def _units(r: Row, problems: list[str], col: str = "units") -> Decimal | None:
    """Lago fixed_charge.units: >= 0, 0 when unset (its default)."""
    if r.data.get(col, "") == "":
        return Decimal(0)
    return dec(r, col, problems)  # a negative value is refused (Lago: units >= 0)


def check_units(c: Check, fixed: dict[str, Row]) -> None:
    """fixed_charge_units.csv: a subscription's units of one of its plan's fixed charges from a day on. In
    advance, a day after a period's first is a unit change inside the period, billed at once on an
    invoice of its own (int_fixed_charge_fees; Lago fees/build_pay_in_advance_fixed_charge_service.rb)."""
    problems = c.problems
    subscriptions: dict[str, Row] = {}
    for s in c.rows["subscriptions.csv"]:
        subscriptions.setdefault(s.data["external_id"], s)
    seen: dict[tuple[str, str, str], Row] = {}
    for r in c.rows["fixed_charge_units.csv"]:
        d = r.data
        sub = subscriptions.get(d["external_subscription_id"])
        charge = fixed.get(d["fixed_charge_id"])
        if sub is None:
            problems.append(f"{r.where()}: external_subscription_id {d['external_subscription_id']!r} does not "
                            f"exist in subscriptions.csv")
        if charge is None:
            problems.append(f"{r.where()}: fixed_charge_id {d['fixed_charge_id']!r} does not exist in "
                            f"fixed_charges.csv")
        if sub is not None and charge is not None and sub.data["plan_code"] != charge.data["plan_code"]:
            problems.append(f"{r.where()}: fixed charge {d['fixed_charge_id']!r} is on plan "
                            f"{charge.data['plan_code']!r}, not on the subscription's plan {sub.data['plan_code']!r} "
                            f"(rule: a subscription overrides the units of its own plan's fixed charges)")
        units = dec(r, "units", problems)  # required, >= 0 (Lago: units >= 0)
        effective = date_or_datetime(r, "effective_on", problems, True, date_only=True)
        key = (d["external_subscription_id"], d["fixed_charge_id"], effective or "")
        if effective and key in seen:
            problems.append(f"{r.where()}: units of {d['fixed_charge_id']!r} for {d['external_subscription_id']!r} "
                            f"are already set from {effective} (row {seen[key].line}; rule: one value per day)")
        seen.setdefault(key, r)
        ending = (sub.data.get("ending_at") or "").strip()[:10] if sub is not None else ""
        if effective and len(ending) == 10 and str(effective)[:10] > ending:
            problems.append(f"{r.where()}: units of {d['fixed_charge_id']!r} for {d['external_subscription_id']!r} "
                            f"from {effective}, after the subscription ends ({ending}), would never be billed "
                            f"(rule: a units change takes effect while the subscription is active, as Lago refuses "
                            f"to update a terminated subscription)")
        c.add(FixedChargeUnits(d["external_subscription_id"], d["fixed_charge_id"], units, effective, r.line))


__all__ = ["FixedCharge", "FixedChargeTax", "FixedChargeTier", "FixedChargeUnits", "check", "check_units"]
