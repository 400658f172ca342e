"""Billing periods from the reference rules (lago-semantics.md §4): calendar periods start on the
1st, anniversary ones on the start day; dates are local to the customer's timezone, and a period
covers [start 00:00 local, end + 1 day 00:00 local) as UTC instants."""
from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class Period:
    start: date  # first day, inclusive (local)
    end: date  # last day, inclusive (local); truncated by the subscription's start or end
    full_days: int  # days of the whole (untruncated) period, the proration base
    from_at: datetime  # UTC instant of start 00:00 local
    to_at: datetime  # UTC instant of (end + 1 day) 00:00 local: the window is [from_at, to_at)

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1


def _add_months(d: date, months: int, day: int) -> date:
    y, m = divmod(d.month - 1 + months, 12)
    y, m = d.year + y, m + 1
    return date(y, m, min(day, calendar.monthrange(y, m)[1]))


MONTHS = {"monthly": 1, "quarterly": 3, "yearly": 12}


def _full_period(day: date, interval: str, billing_time: str, anchor: date) -> tuple[date, date]:
    """The whole period that contains `day`: calendar periods start on a Monday or the 1st of a
    month, quarter or year; anniversary ones on the anchor's weekday or day of month (clamped to
    the last day of shorter months: a 31st start bills on Feb 28)."""
    if interval == "weekly":
        weekday = 0 if billing_time == "calendar" else anchor.weekday()
        start = day - timedelta(days=(day.weekday() - weekday) % 7)
        return start, start + timedelta(days=6)
    n = MONTHS[interval]
    if billing_time == "calendar":
        start = date(day.year, (day.month - 1) // n * n + 1, 1)
        return start, _add_months(start, n, 1) - timedelta(days=1)
    k = ((day.year - anchor.year) * 12 + day.month - anchor.month) // n
    while _add_months(anchor, k * n, anchor.day) > day:
        k -= 1
    while _add_months(anchor, (k + 1) * n, anchor.day) <= day:
        k += 1
    return _add_months(anchor, k * n, anchor.day), _add_months(anchor, (k + 1) * n, anchor.day) - timedelta(days=1)


def local_midnight(d: date, tz: ZoneInfo) -> datetime:
    return datetime(d.year, d.month, d.day, tzinfo=tz).astimezone(UTC)


def periods(started: date, ending: date | None, interval: str, billing_time: str, tz: ZoneInfo,
            until: date) -> list[Period]:
    """Every period of a subscription that starts on or before `until` (local)."""
    out = []
    day = started
    while day <= until and (ending is None or day <= ending):
        s, e = _full_period(day, interval, billing_time, started)
        full = (e - s).days + 1
        s2, e2 = max(s, started), min(e, ending) if ending else e
        out.append(Period(s2, e2, full, local_midnight(s2, tz), local_midnight(e2 + timedelta(days=1), tz)))
        day = e + timedelta(days=1)
    return out
