"""Currency minor units (ISO 4217), read from dbt's `currencies` seed so that the catalog
checks, the invoice pages, the Great Expectations suites and the SQL round alike."""
from __future__ import annotations

import csv

from orchestration.paths import DBT_PROJECT_DIR

CURRENCIES_SEED = DBT_PROJECT_DIR / "seeds" / "currencies.csv"


def _read_minor_units() -> dict[str, int]:
    with CURRENCIES_SEED.open(newline="") as fh:
        return {r["currency"]: int(r["minor_unit"]) for r in csv.DictReader(fh)}


# currency code -> decimals of its minor unit; a currency not in it is refused by name
MINOR_UNITS: dict[str, int] = _read_minor_units()


def is_known_currency(code: str) -> bool:
    return code in MINOR_UNITS


def minor_unit(currency: str) -> int:
    return MINOR_UNITS[currency]
