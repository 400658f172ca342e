"""What Lago means by an optional catalog value that is absent or null (README: "Optional
properties"). Lago's API and exports write an unset optional value as JSON `null` (or leave the
key out); a CSV exported from them may hold an empty cell or the text `null`. Every one of these
means the same as leaving the value out, so the validator sees one form: "" for a CSV cell,
None for a JSON value."""
from __future__ import annotations

from typing import Any

# The SPEC §3 columns a row may leave unset (empty cell or `null`), with what unset means:
# the validator of each file applies the default (README table).
OPTIONAL_CELLS: dict[str, frozenset[str]] = {name: frozenset(cols) for name, cols in {
    "customers.csv": ["timezone", "tax_codes"],
    "billable_metrics.csv": ["field_name", "recurring", "rounding_function", "rounding_precision", "filters",
                             "expression", "weighted_interval"],
    "plans.csv": ["pay_in_advance", "trial_period", "minimum_commitment", "tax_codes", "bill_charges_monthly",
                  "bill_fixed_charges_monthly"],
    "charges.csv": ["pay_in_advance", "min_amount", "invoice_display_name", "filters", "tax_codes", "prorated",
                    "invoiceable", "regroup_paid_fees", "instant_invoice_grouping"],
    "subscriptions.csv": ["ending_at", "billing_time"],
    "usage_thresholds.csv": ["recurring"],
    "taxes.csv": ["applied_by_default"],
    "wallets.csv": ["priority", "expiration_at"],
    "coupons.csv": ["amount", "percentage_rate", "frequency_duration"],
    "add_ons.csv": ["invoice_display_name", "tax_codes"],
    "fixed_charges.csv": ["units", "pay_in_advance", "prorated", "invoice_display_name", "tax_codes"],
    "one_off_invoices.csv": ["units", "unit_amount", "invoice_display_name"],
    "alerts.csv": ["name", "billable_metric_code"],
}.items()}


def is_unset(value: Any) -> bool:
    """A JSON value Lago treats as not given: absent (None), null or a blank string."""
    return value is None or (isinstance(value, str) and value.strip() == "")


def unset_cells(name: str, data: dict[str, str]) -> dict[str, str]:
    """The row with each optional cell holding `null` (any case) read as empty."""
    optional = OPTIONAL_CELLS.get(name, frozenset())
    return {k: "" if k in optional and v.lower() == "null" else v for k, v in data.items()}


def metric_filters(value: Any) -> Any:
    """A billable metric's filters as `{key: [values]}`: SPEC §3's object as is, Lago's API list
    `[{"key": k, "values": [...]}, ...]` turned into it, null as none. Any other shape is returned
    unchanged for the validator to refuse."""
    if value is None:
        return {}
    if isinstance(value, list) and all(isinstance(f, dict) and isinstance(f.get("key"), str) for f in value):
        keys = [f["key"] for f in value]
        if len(set(keys)) == len(keys):
            return {f["key"]: f.get("values") for f in value}
    return value
