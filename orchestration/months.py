"""Billing months: first days of calendar months."""
from datetime import date


def next_month(d: date) -> date:
    return date(d.year + (d.month == 12), d.month % 12 + 1, 1)


def months_between(first: date, last: date) -> list[date]:
    """Every month from first's to last's, inclusive, as first days."""
    months, cur = [], date(first.year, first.month, 1)
    while cur <= last:
        months.append(cur)
        cur = next_month(cur)
    return months
