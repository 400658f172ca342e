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
    # Lago's add-ons, fixed charges (contracted units billed every period) and one-off invoices
    # (docs/decisions.md 24)
    "add_ons.csv": ["code", "name", "amount", "currency", "invoice_display_name"],
    "fixed_charges.csv": ["id", "plan_code", "add_on_code", "charge_model", "properties", "units", "pay_in_advance",
                          "prorated"],
    "fixed_charge_units.csv": ["external_subscription_id", "fixed_charge_id", "units", "effective_on"],
    "one_off_invoices.csv": ["external_customer_id", "add_on_code", "units", "unit_amount", "issuing_date"],
    # Lago's usage alerts, evaluated on current usage (orchestration/alerts.py, docs/decisions.md 26)
    "alerts.csv": ["code", "external_subscription_id", "alert_type", "billable_metric_code", "thresholds"],
}
# Columns a file may leave out (an absent column is empty on every row): extensions of SPEC §3.
OPTIONAL_COLUMNS: dict[str, list[str]] = {
    "plans.csv": ["tax_codes", "bill_charges_monthly", "bill_fixed_charges_monthly"],
    "charges.csv": ["tax_codes", "prorated", "invoiceable", "regroup_paid_fees", "instant_invoice_grouping"],
    "billable_metrics.csv": ["expression", "weighted_interval"],
    "add_ons.csv": ["tax_codes"],
    "fixed_charges.csv": ["invoice_display_name", "tax_codes"],
    "one_off_invoices.csv": ["invoice_display_name"],
    "alerts.csv": ["name"],
}
# Lago options Tally knows but cannot bill yet, each an optional column: unset (empty, `null`)
# or its Lago default loads; any other value is refused as not supported yet (README "Every
# column and file is known"). column -> (the values accepted, lowercased; what it is in Lago).
FALSE = ("false", "f", "0", "no")
UNSUPPORTED_VALUES: dict[str, dict[str, tuple[tuple[str, ...], str]]] = {
    "charges.csv": {
        "regroup_paid_fees": ((), "regrouping paid fees (Lago charge.regroup_paid_fees)"),
    },
    "plans.csv": {
        "bill_charges_monthly": (FALSE, "billing a yearly plan's charges monthly (Lago plan.bill_charges_monthly)"),
        "bill_fixed_charges_monthly": (FALSE, "billing fixed charges monthly (Lago plan.bill_fixed_charges_monthly)"),
    },
    "billable_metrics.csv": {
        "expression": ((), "computed fields (Lago billable_metric.expression)"),
        "weighted_interval": (("seconds",), "a weighted interval other than seconds"),
    },
}
# Columns Tally reads nowhere and that cannot change what is billed (descriptions, names for
# display, Lago's own ids): loaded with a warning in the run summary, never silently.
IGNORED_COLUMNS: dict[str, frozenset[str]] = {name: frozenset(cols) | {"description", "lago_id"} for name, cols in {
    "customers.csv": ["email", "legal_name"],
    "billable_metrics.csv": [],
    "plans.csv": ["invoice_display_name"],
    "charges.csv": [],
    "subscriptions.csv": ["name"],
    "usage_thresholds.csv": ["threshold_display_name"],
    "taxes.csv": [],
    "wallets.csv": ["name"],
    "wallet_transactions.csv": [],
    "coupons.csv": ["name"],
    "applied_coupons.csv": [],
    "fx_rates.csv": [],
    "add_ons.csv": [],
    "fixed_charges.csv": [],
    "fixed_charge_units.csv": [],
    "one_off_invoices.csv": [],
    "alerts.csv": [],
}.items()}
# Lago files Tally knows but cannot bill yet: refused when they hold rows (they would bill
# nothing), a warning when empty. (fixed_charges.csv, add_ons.csv and one_off_invoices.csv were
# here until they were billed: docs/decisions.md 24.)
UNSUPPORTED_FILES: dict[str, str] = {}


@dataclass
class Row:
    """One data row of a catalog file: its cells stripped, an unset optional cell "" (lago_optional)."""
    file: str
    line: int
    data: dict[str, str]

    def where(self) -> str:
        return f"{self.file} row {self.line}"


def known_columns(name: str) -> list[str]:
    return [*{**FILES, **OPTIONAL_FILES}[name], *OPTIONAL_COLUMNS.get(name, [])]


def read(folder: Path, name: str, problems: list[str], warnings: list[str] | None = None) -> list[Row]:
    """The rows of one file; a missing file or column is a problem (and no rows), an unknown
    column a problem, an ignored one a warning, a Lago option Tally cannot bill yet a problem
    on each row that sets it."""
    warnings = [] if warnings is None else warnings
    path = folder / name
    if not path.exists() and name in OPTIONAL_FILES:
        return []
    if not path.exists():
        problems.append(f"{name}: file is missing from {folder} (rule: the catalog needs {', '.join(FILES)})")
        return []
    # utf-8-sig: a catalog saved by a spreadsheet starts with a byte-order mark
    with path.open(newline="", encoding="utf-8-sig") as fh:
        reader = csv.DictReader(fh)
        header = reader.fieldnames or []
        missing = [c for c in {**FILES, **OPTIONAL_FILES}[name] if c not in header]
        if missing:
            problems.append(f"{name}: missing columns {missing} (rule: SPEC §3 columns)")
            return []
        _check_header(name, header, problems, warnings)
        absent = {c: "" for c in OPTIONAL_COLUMNS.get(name, []) if c not in header}
        # The reader's own line number (header = 1) stays right across blank lines and quoted newlines.
        rows = []
        for r in reader:
            if None in r:
                problems.append(f"{name} row {reader.line_num}: more fields than columns (an unquoted comma?)")
            data = {k: (v or "").strip() if isinstance(v, str) else "" for k, v in r.items() if k}
            row = Row(name, reader.line_num, {**absent, **unset_cells(name, data)})
            _check_unsupported(row, problems)
            rows.append(row)
        return rows


def _check_header(name: str, header: list[str], problems: list[str], warnings: list[str]) -> None:
    """Every column is known (SPEC §3, an optional column, a Lago option) or ignored with a warning."""
    known, ignored = known_columns(name), IGNORED_COLUMNS.get(name, frozenset())
    for col in header:
        if col in known:
            continue
        if col in ignored:
            warnings.append(f"{name}: column {col!r} is ignored (display or Lago bookkeeping only: "
                            f"it does not change what is billed)")
        else:
            problems.append(f"{name} row 1: column {col!r} is unknown (rule: the columns of {name} are "
                            f"{known}, and {sorted(ignored)} are ignored; a column Tally does not know "
                            f"could change what Lago bills, so it is refused, not ignored)")


def _check_unsupported(row: Row, problems: list[str]) -> None:
    for col, (accepted, what) in UNSUPPORTED_VALUES.get(row.file, {}).items():
        value = row.data.get(col, "")
        if value != "" and value.lower() not in accepted:
            allowed = f"empty or {accepted[0]}" if accepted else "empty"
            problems.append(f"{row.where()}: {col}={value!r} is not supported yet ({what}; rule: {col} must "
                            f"be {allowed})")


def unknown_files(folder: Path, problems: list[str], warnings: list[str]) -> None:
    """A file of the folder that is no catalog file is refused: Tally would bill without it. A
    Lago file Tally cannot bill yet is refused when it has rows. Hidden entries (.DS_Store,
    editors' swap files) are left alone."""
    if not folder.is_dir():
        return
    for path in sorted(folder.iterdir()):
        name = path.name
        if name.startswith(".") or name in FILES or name in OPTIONAL_FILES:
            continue
        if name in UNSUPPORTED_FILES and path.is_file():
            lines = _data_lines(path)
            if lines:
                where = f"row {lines[0]}" if len(lines) == 1 else f"rows {lines[0]}-{lines[-1]}"
                problems.append(f"{name} {where}: {UNSUPPORTED_FILES[name]} are not supported yet (rule: "
                                f"Tally would bill nothing for them; remove the file or its rows)")
            else:
                warnings.append(f"{name}: has no rows and is ignored ({UNSUPPORTED_FILES[name]} are not "
                                f"supported yet)")
            continue
        problems.append(f"{name}: {'folder' if path.is_dir() else 'file'} is unknown (rule: a catalog folder "
                        f"holds only {', '.join([*FILES, *OPTIONAL_FILES])}; a file Tally does not know "
                        f"would bill nothing, so it is refused, not ignored)")


def _data_lines(path: Path) -> list[int]:
    """The line numbers (header = 1) of a CSV file's data rows."""
    with path.open(newline="", encoding="utf-8-sig", errors="replace") as fh:
        reader = csv.reader(fh)
        if next(reader, None) is None:
            return []
        return [reader.line_num for r in reader if any(cell.strip() for cell in r)]


def read_all(folder: Path, problems: list[str], warnings: list[str] | None = None) -> dict[str, list[Row]]:
    """Every file's rows, in the order of FILES then OPTIONAL_FILES (the order of their
    problems), then the folder's other files."""
    warnings = [] if warnings is None else warnings
    rows = {name: read(folder, name, problems, warnings) for name in (*FILES, *OPTIONAL_FILES)}
    unknown_files(folder, problems, warnings)
    return rows
