"""Billing months: first days of calendar months. The one place month arithmetic is written."""
from __future__ import annotations

from datetime import date


def month_start(d: date) -> date:
    return date(d.year, d.month, 1)


def next_month(d: date) -> date:
    """The first day of the month after d's."""
    return date(d.year + (d.month == 12), d.month % 12 + 1, 1)


def previous_month(d: date) -> date:
    """The first day of the month before d's."""
    return date(d.year - (d.month == 1), (d.month - 2) % 12 + 1, 1)


def months_between(first: date, last: date) -> list[date]:
    """Every month from first's to last's, inclusive, as first days."""
    months, cur = [], month_start(first)
    while cur <= last:
        months.append(cur)
        cur = next_month(cur)
    return months
