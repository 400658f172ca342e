"""Format money and quantities for the HTML pages with Babel (locale en_US).

Amounts stay Decimal end to end: Babel formats a Decimal without going through float.
The number of decimals is the currency's ISO 4217 minor unit from the catalog's currency
table, not CLDR's (the two differ for a few currencies, and billing rounds to ours).
"""
from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from babel.numbers import format_currency, format_decimal

from orchestration.lib.money import minor_unit

LOCALE = "en_US"
# unit prices and tier amounts are stored unrounded (up to 12 decimals): show them exactly
EXACT_DECIMALS = 12


def _pattern(minor: int, optional: int = 0) -> str:
    fraction = "0" * minor + "#" * optional
    return "¤#,##0" + (f".{fraction}" if fraction else "")


def money(amount: Decimal | None, currency: str) -> str:
    """An amount rounded to the currency's minor unit: $62.77, ¥724, €15.48, KWD1.234."""
    if amount is None:
        return ""
    minor = minor_unit(currency)
    # billed amounts are already rounded half away from zero; quantize so Babel never rounds
    rounded = amount.quantize(Decimal(1).scaleb(-minor), rounding=ROUND_HALF_UP)
    return format_currency(rounded, currency, format=_pattern(minor), locale=LOCALE, currency_digits=False)


def exact_money(amount: Decimal | None, currency: str) -> str:
    """A unit price or unrounded tier amount: at least the minor unit, then every non-zero decimal."""
    if amount is None:
        return ""
    minor = minor_unit(currency)
    pattern = _pattern(minor, max(EXACT_DECIMALS - minor, 0))
    return format_currency(amount, currency, format=pattern, locale=LOCALE, currency_digits=False)


def deduction(amount: Decimal | None, currency: str) -> str:
    """A deduction in the totals (coupons, credits): shown negative, but zero stays "$0.00"."""
    if not amount:
        return money(Decimal(0), currency)
    return money(-amount, currency)


def quantity(value: Decimal | int | None) -> str:
    """Units and counts: grouped, without trailing zeros (10,005; 120.5)."""
    if value is None:
        return ""
    return format_decimal(value, format="#,##0.##########", locale=LOCALE)


FILTERS = {"money": money, "exact_money": exact_money, "deduction": deduction, "quantity": quantity}
