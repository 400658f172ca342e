"""`tally finalize` refuses a month whose grace period has not passed (issue 11, item 4):
the month [M, next M) stays open until next M + TALLY_GRACE_DAYS, as Lago's invoice grace period."""
from datetime import date

import pytest

from orchestration.finalize import FinalizeError, check_grace, grace_days


@pytest.mark.parametrize(("month", "today", "days", "open_until"), [
    # no grace: the month can be finalized from the first day of the next one, not before
    (date(2026, 11, 1), date(2026, 11, 30), 0, "2026-12-01"),
    (date(2026, 11, 1), date(2026, 11, 1), 0, "2026-12-01"),
    # 3 days of grace over a year end
    (date(2026, 12, 1), date(2027, 1, 3), 3, "2027-01-04"),
    # February of a leap year
    (date(2028, 2, 1), date(2028, 3, 1), 1, "2028-03-02"),
])
def test_a_month_in_its_grace_period_is_refused(month, today, days, open_until):
    with pytest.raises(FinalizeError, match=f"ends on {open_until}.*--force"):
        check_grace(month, today, days)


@pytest.mark.parametrize(("month", "today", "days"), [
    (date(2026, 11, 1), date(2026, 12, 1), 0),
    (date(2026, 12, 1), date(2027, 1, 4), 3),
    (date(2028, 2, 1), date(2028, 3, 2), 1),
    (date(2026, 1, 1), date(2026, 12, 5), 30),
])
def test_a_month_past_its_grace_period_can_be_finalized(month, today, days):
    check_grace(month, today, days)


def test_grace_days_come_from_the_environment(monkeypatch):
    monkeypatch.delenv("TALLY_GRACE_DAYS", raising=False)
    assert grace_days() == 0
    monkeypatch.setenv("TALLY_GRACE_DAYS", "7")
    assert grace_days() == 7
    monkeypatch.setenv("TALLY_GRACE_DAYS", "-1")
    with pytest.raises(FinalizeError, match="TALLY_GRACE_DAYS='-1' is not a whole number"):
        grace_days()
