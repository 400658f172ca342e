"""Load and validate the pricing catalog (SPEC §3) into the `catalog` schema.

The catalog is small (rows, not events), so it is checked here in Python, where a broken
row can be reported with its file, line and rule before anything is billed. One rule module per
catalog file (taxes.py ... fx_rates.py) checks its rows and adds them as typed rows, one
NamedTuple per `catalog.*` table whose fields are the table's columns. Lago's JSON `properties`
are flattened into relational tables (one row per price bucket, per tier, per filter value) so
that every dbt model stays plain SQL on any adapter. What the rule modules share (reading the
files, reading a cell, collecting problems, writing to DuckDB) is orchestration/catalog_kit/.
"""
from __future__ import annotations

from pathlib import Path

import duckdb

from orchestration.catalog import (
    add_ons,
    alerts,
    applied_coupons,
    charges,
    coupons,
    customers,
    fixed_charges,
    fx_rates,
    metrics,
    one_off_invoices,
    plans,
    subscriptions,
    taxes,
    usage_thresholds,
    wallet_transactions,
    wallets,
)
from orchestration.catalog_kit.check import CatalogError, Check
from orchestration.catalog_kit.files import FILES, OPTIONAL_FILES, read_all
from orchestration.catalog_kit.tables import Catalog, columns, write

__all__ = ["FILES", "OPTIONAL_FILES", "ROW_TYPES", "SCHEMAS", "Catalog", "CatalogError", "load", "validate", "write"]

# Every catalog.* table, as its typed row, in the order the tables are written (and the Dagster assets listed).
ROW_TYPES: tuple[type, ...] = (
    customers.Customer, metrics.BillableMetric, metrics.BillableMetricFilter, plans.Plan, charges.Charge,
    charges.ChargeBucket, charges.ChargeTier, charges.ChargeFilterValue, subscriptions.Subscription,
    usage_thresholds.UsageThreshold, taxes.Tax, customers.CustomerTax, plans.PlanTax, charges.ChargeTax,
    wallets.Wallet, wallet_transactions.WalletTransaction, coupons.Coupon, applied_coupons.AppliedCoupon,
    fx_rates.FxRate, add_ons.AddOn, add_ons.AddOnTax, fixed_charges.FixedCharge, fixed_charges.FixedChargeTier,
    fixed_charges.FixedChargeTax, fixed_charges.FixedChargeUnits, one_off_invoices.OneOffInvoice,
    alerts.Alert, alerts.AlertThreshold,
)
# table name -> [(column, SQL type)], derived from the typed rows
SCHEMAS: dict[str, list[tuple[str, str]]] = {t.table: columns(t) for t in ROW_TYPES}


def validate(folder: Path) -> Catalog:
    """Read every catalog file, check every rule, return flattened tables or raise CatalogError."""
    folder = Path(folder)
    problems: list[str] = []
    warnings: list[str] = []
    c = Check(rows=read_all(folder, problems, warnings), problems=problems, tables={name: [] for name in SCHEMAS},
              warnings=warnings)
    # in this order: a file's checks look up the files before it, and problems read top down
    tax_codes = taxes.check(c)
    customer_ids = customers.check(c, tax_codes)
    metric_codes, metric_filters = metrics.check(c)
    plan_codes = plans.check(c, tax_codes)
    charges.check(c, plan_codes, metric_codes, metric_filters, tax_codes)
    subscriptions.check(c, customer_ids, plan_codes)
    usage_thresholds.check(c, plan_codes)
    wallet_transactions.check(c, wallets.check(c, customer_ids))
    coupon_codes = coupons.check(c)
    applied_coupons.check(c, coupon_codes, customer_ids)
    fx_rates.check(c)
    add_on_codes = add_ons.check(c, tax_codes)
    fixed_charge_ids = fixed_charges.check(c, plan_codes, add_on_codes, tax_codes)
    fixed_charges.check_units(c, fixed_charge_ids)
    one_off_invoices.check(c, customer_ids, add_on_codes)
    alerts.check(c, metric_codes)
    if problems:
        raise CatalogError(problems)
    return Catalog({name: (SCHEMAS[name], rows) for name, rows in c.tables.items()}, warnings)


def load(con: duckdb.DuckDBPyConnection, folder: Path) -> dict[str, int]:
    return write(con, validate(folder))
