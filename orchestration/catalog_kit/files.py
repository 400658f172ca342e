"""Reading the catalog files (SPEC §3): which files and columns there are, the encoding rules,
and each row with its file and line for the problems found in it."""
from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from orchestration.lago_optional import unset_cells

FILES = {
    "customers.csv": ["external_id", "name", "currency", "timezone", "tax_codes"],
    "billable_metrics.csv": ["code", "name", "aggregation_type", "field_name", "recurring",
                             "rounding_function", "rounding_precision", "filters"],
    "plans.csv": ["code", "name", "interval", "amount", "currency", "pay_in_advance", "trial_period",
                  "minimum_commitment"],
    "charges.csv": ["id", "plan_code", "billable_metric_code", "charge_model", "properties", "pay_in_advance",
                    "min_amount", "invoice_display_name", "filters"],
    "subscriptions.csv": ["external_id", "external_customer_id", "plan_code", "started_at", "ending_at",
                          "billing_time"],
}
# Files a catalog may leave out (an absent file is an empty one): the money features of SPEC §3.
OPTIONAL_FILES = {
    "usage_thresholds.csv": ["plan_code", "amount", "recurring"],
    "taxes.csv": ["code", "name", "rate", "applied_by_default"],
    "wallets.csv": ["id", "external_customer_id", "currency", "rate_amount", "priority", "expiration_at"],
    "wallet_transactions.csv": ["wallet_id", "credits", "kind", "created_at"],
    "coupons.csv": ["code", "coupon_type", "amount", "percentage_rate", "frequency", "frequency_duration"],
    "applied_coupons.csv": ["coupon_code", "external_customer_id", "applied_at"],
    "fx_rates.csv": ["date", "currency", "rate"],
}
# Columns a file may leave out (an absent column is empty on every row): extensions of SPEC §3.
OPTIONAL_COLUMNS: dict[str, list[str]] = {
    "plans.csv": ["tax_codes"],
    "charges.csv": ["tax_codes"],
}


@dataclass
class Row:
    """One data row of a catalog file: its cells stripped, an unset optional cell "" (lago_optional)."""
    file: str
    line: int
    data: dict[str, str]

    def where(self) -> str:
        return f"{self.file} row {self.line}"


def read(folder: Path, name: str, problems: list[str]) -> list[Row]:
    """The rows of one file; a missing file or column is a problem (and no rows)."""
    path = folder / name
    if not path.exists() and name in OPTIONAL_FILES:
        return []
    if not path.exists():
        problems.append(f"{name}: file is missing from {folder} (rule: the catalog needs {', '.join(FILES)})")
        return []
    # utf-8-sig: a catalog saved by a spreadsheet starts with a byte-order mark
    with path.open(newline="", encoding="utf-8-sig") as fh:
        reader = csv.DictReader(fh)
        missing = [c for c in {**FILES, **OPTIONAL_FILES}[name] if c not in (reader.fieldnames or [])]
        if missing:
            problems.append(f"{name}: missing columns {missing} (rule: SPEC §3 columns)")
            return []
        absent = {c: "" for c in OPTIONAL_COLUMNS.get(name, []) if c not in (reader.fieldnames or [])}
        # The reader's own line number (header = 1) stays right across blank lines and quoted newlines.
        rows = []
        for r in reader:
            if None in r:
                problems.append(f"{name} row {reader.line_num}: more fields than columns (an unquoted comma?)")
            data = {k: (v or "").strip() if isinstance(v, str) else "" for k, v in r.items() if k}
            rows.append(Row(name, reader.line_num, {**absent, **unset_cells(name, data)}))
        return rows


def read_all(folder: Path, problems: list[str]) -> dict[str, list[Row]]:
    """Every file's rows, in the order of FILES then OPTIONAL_FILES (the order of their problems)."""
    return {name: read(folder, name, problems) for name in (*FILES, *OPTIONAL_FILES)}
