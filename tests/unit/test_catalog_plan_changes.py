"""subscriptions.csv rows sharing an external_id: a plan change (docs/decisions.md 34), checked
against Lago's rules (an upgrade at once, a downgrade at the end of a billing period) and what
Tally cannot bill like Lago yet, each refusal naming file, row and rule."""
import shutil
from pathlib import Path

import pytest

from orchestration.catalog import CatalogError, validate
from orchestration.catalog.subscriptions import is_period_start

SMALL = Path(__file__).resolve().parents[1] / "fixtures" / "small" / "catalog"
PLANS = ("pro_usd,Pro,monthly,99.00,USD,false,0,\n"
         "lite_usd,Lite,monthly,19.00,USD,false,0,\n"
         "adv_usd,Advance USD,monthly,60.00,USD,true,0,\n"
         "trial_usd,Trial,monthly,199.00,USD,false,14,\n"
         "yearly_usd,Yearly,yearly,500.00,USD,false,0,\n")


def catalog(tmp_path: Path, subs: str, plans: str = PLANS, charges: str = "") -> Path:
    folder = tmp_path / "catalog"
    shutil.copytree(SMALL, folder)
    with (folder / "plans.csv").open("a") as fh:
        fh.write(plans)
    with (folder / "charges.csv").open("a") as fh:
        fh.write(charges)
    (folder / "subscriptions.csv").write_text(
        "external_id,external_customer_id,plan_code,started_at,ending_at,billing_time\n" + subs)
    return folder


def problems(folder: Path) -> list[str]:
    with pytest.raises(CatalogError) as refused:
        validate(folder)
    return refused.value.problems


def test_an_upgrade_mid_period_and_a_downgrade_on_the_first_of_a_month_load(tmp_path):
    cat = validate(catalog(tmp_path, "sub_a,cus_a,basic_usd,2026-10-01,2026-10-07,calendar\n"
                                     "sub_a,cus_a,pro_usd,2026-10-08,2026-10-31,calendar\n"
                                     "sub_a,cus_a,basic_usd,2026-11-01,,calendar\n"))
    rows = cat.tables["subscriptions"][1]
    assert [(r.external_id, r.plan_code, r.started_at, r.ending_at) for r in rows] == [
        ("sub_a", "basic_usd", "2026-10-01", "2026-10-07"), ("sub_a", "pro_usd", "2026-10-08", "2026-10-31"),
        ("sub_a", "basic_usd", "2026-11-01", None)]


def test_datetimes_follow_each_other_at_the_same_instant(tmp_path):
    validate(catalog(tmp_path, "sub_a,cus_a,basic_usd,2026-10-01,2026-10-08T12:00:00Z,calendar\n"
                               "sub_a,cus_a,pro_usd,2026-10-08T12:00:00Z,,calendar\n"))
    assert problems(catalog(tmp_path / "b", "sub_a,cus_a,basic_usd,2026-10-01,2026-10-08T12:00:00Z,calendar\n"
                                            "sub_a,cus_a,pro_usd,2026-10-08T13:00:00Z,,calendar\n")) == [
        ("subscriptions.csv row 3: started_at 2026-10-08T13:00:00Z does not follow row 2's ending_at "
        "2026-10-08T12:00:00Z (an ending date is the last day, the next row starts the day after; an ending "
        "datetime is the next row's started_at) (rule: the rows of subscription 'sub_a' are plan segments back "
        "to back, docs/decisions.md 34)")]


def test_a_downgrade_inside_a_period_is_refused_with_the_day_lago_would_apply_it(tmp_path):
    # pro 99 × 12 = 1,188 a year > lite 19 × 12 = 228: a downgrade, which Lago applies at the period's end
    assert problems(catalog(tmp_path, "sub_a,cus_a,pro_usd,2026-10-01,2026-10-14,calendar\n"
                                      "sub_a,cus_a,lite_usd,2026-10-15,,calendar\n")) == [
        ("subscriptions.csv row 3: 'pro_usd' -> 'lite_usd' is a downgrade (yearly amount 228.00 < 1188.00), which "
        "Lago applies at the end of the current billing period: started_at must be 2026-11-01 (rule: a downgrade "
        "takes effect on the first day of a billing period, an upgrade at once)")]


def test_yearly_amounts_decide_upgrade_or_downgrade(tmp_path):
    # yearly 500 < monthly 49 × 12 = 588: basic -> yearly is a downgrade, refused mid-month
    assert "downgrade (yearly amount 500.00 < 588.00)" in problems(catalog(
        tmp_path, "sub_a,cus_a,basic_usd,2026-10-01,2026-10-14,calendar\n"
                  "sub_a,cus_a,yearly_usd,2026-10-15,,calendar\n"))[0]
    # lite 228 -> basic 588: an upgrade, at once
    validate(catalog(tmp_path / "b", "sub_a,cus_a,lite_usd,2026-10-01,2026-10-14,calendar\n"
                                     "sub_a,cus_a,basic_usd,2026-10-15,,calendar\n"))


def test_what_tally_cannot_bill_like_lago_yet_is_refused(tmp_path):
    # leaving a plan paid in advance mid-period: Lago's credit note for the unused days is not built
    assert problems(catalog(tmp_path, "sub_a,cus_a,adv_usd,2026-10-01,2026-10-14,calendar\n"
                                      "sub_a,cus_a,pro_usd,2026-10-15,,calendar\n")) == [
        ("subscriptions.csv row 3: leaving 'adv_usd', paid in advance, inside its billing period is not supported "
        "yet (Lago credits the unused days; rule: start the new plan on 2026-11-01)")]
    # ... but on the first day of its next period it is a plain change
    validate(catalog(tmp_path / "ok", "sub_a,cus_a,adv_usd,2026-10-01,2026-10-31,calendar\n"
                                      "sub_a,cus_a,pro_usd,2026-11-01,,calendar\n"))
    assert "has a trial" in problems(catalog(tmp_path / "t", "sub_a,cus_a,basic_usd,2026-10-01,2026-10-14,calendar\n"
                                                             "sub_a,cus_a,trial_usd,2026-10-15,,calendar\n"))[0]
    assert "anniversary subscription is not supported yet" in problems(catalog(
        tmp_path / "a", "sub_a,cus_a,basic_usd,2026-10-01,2026-10-14,anniversary\n"
                        "sub_a,cus_a,pro_usd,2026-10-15,,anniversary\n"))[0]
    # both plans charge the recurring metric seats: Lago carries its value over the change
    charges = ('c_pro_seats,pro_usd,seats,standard,"{""amount"": ""1""}",false,,Seats,\n'
               'c_basic_seats,basic_usd,seats,standard,"{""amount"": ""1""}",false,,Seats,\n')
    assert "both charge recurring metric(s) ['seats']" in problems(catalog(
        tmp_path / "r", "sub_a,cus_a,basic_usd,2026-10-01,2026-10-14,calendar\n"
                        "sub_a,cus_a,pro_usd,2026-10-15,,calendar\n", charges=charges))[0]


def test_segments_must_be_one_customer_back_to_back_and_a_real_change(tmp_path):
    found = problems(catalog(tmp_path, "sub_a,cus_a,basic_usd,2026-10-01,,calendar\n"
                                       "sub_a,cus_a,pro_usd,2026-10-15,,calendar\n"))
    assert found == [("subscriptions.csv row 2: subscription 'sub_a' has a later row (3) but no ending_at (rule: the "
                     "rows of subscription 'sub_a' are plan segments back to back, docs/decisions.md 34)")]
    assert "does not follow row 2's ending_at 2026-10-07" in problems(catalog(
        tmp_path / "gap", "sub_a,cus_a,basic_usd,2026-10-01,2026-10-07,calendar\n"
                          "sub_a,cus_a,pro_usd,2026-10-09,,calendar\n"))[0]
    assert "changes to the plan it is on ('basic_usd')" in problems(catalog(
        tmp_path / "same", "sub_a,cus_a,basic_usd,2026-10-01,2026-10-07,calendar\n"
                           "sub_a,cus_a,basic_usd,2026-10-08,,calendar\n"))[0]
    assert "changes customer" in problems(catalog(
        tmp_path / "cust", "sub_a,cus_a,basic_usd,2026-10-01,2026-10-07,calendar\n"
                           "sub_a,cus_a2,pro_usd,2026-10-08,,calendar\n"))[-1]


@pytest.mark.parametrize(("interval", "day", "starts"), [
    ("monthly", "2026-11-01", True), ("monthly", "2026-11-02", False),
    ("weekly", "2026-11-02", True), ("weekly", "2026-11-01", False),   # 2026-11-02 is a Monday
    ("quarterly", "2026-10-01", True), ("quarterly", "2026-11-01", False),
    ("yearly", "2027-01-01", True), ("yearly", "2026-10-01", False)])
def test_calendar_period_starts(interval, day, starts):
    from datetime import date
    assert is_period_start(interval, date.fromisoformat(day)) is starts
