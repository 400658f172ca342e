"""A plan change within one subscription (docs/decisions.md 34): tests/fixtures/small with sub_a
upgraded from basic_usd (49 USD, in arrears) to a new pro_usd (99 USD, in arrears; tokens
0.0005, GPUs 8.00) on 2026-10-08, then downgraded back to basic_usd on 2026-11-01 (a downgrade
on the first day of a period, as Lago applies it). Billed by `tally run`, then as the candidate
of `tally simulate` against the small fixture billed as it is. Every figure by hand.

sub_a's events (UTC): tokens 1,000 small on 10-03 and 250 unlabelled on 10-05 (default bucket),
835 large on 10-09; GPUs +2 on 10-11, -1 on 10-21 (a weighted sum, not recurring).

- basic_usd, 10-01..10-07 (7 of 31 days): fee 49 × 7/31 = 11.0645… → 11.06; tokens default
  1,250 × 0.001 = 1.25, large 0 (its event is after the change); GPUs level 0 → 0.
  inv_sub_a_20261001 = 12.31.
- pro_usd, 10-08..10-31 (24 days): fee 99 × 24/31 = 76.6451… → 76.65; tokens 835 × 0.0005 =
  0.4175 → 0.42; GPUs: level 0 for 3 days, 2 for 10 days, 1 for 11 days = 31 level-days / 31
  (Lago divides by the full period's days) = 1 unit × 8.00 = 8.00. inv_sub_a@20261008_20261008
  = 85.07.
- basic_usd again from 11-01: November 49.00 (no usage). inv_sub_a@20261101_20261101 = 49.00.
"""
from __future__ import annotations

import shutil
from decimal import Decimal as D
from pathlib import Path

import pytest

from tests.helpers import rows, tally

SMALL = Path(__file__).resolve().parents[1] / "fixtures" / "small"
PRO_PLAN = "pro_usd,Pro,monthly,99.00,USD,false,0,\n"
PRO_CHARGES = ('c_pro_tokens,pro_usd,tokens,standard,"{""amount"": ""0.0005""}",false,,Tokens,\n'
               'c_pro_gpus,pro_usd,gpus,standard,"{""amount"": ""8.00""}",false,,GPUs,\n')
SEGMENTS = ("sub_a,cus_a,basic_usd,2026-10-01,2026-10-07,calendar\n"
            "sub_a,cus_a,pro_usd,2026-10-08,2026-10-31,calendar\n"
            "sub_a,cus_a,basic_usd,2026-11-01,,calendar\n")
MONTHS = ("--from", "2026-09", "--to", "2026-11")


def changed_catalog(folder: Path) -> Path:
    shutil.copytree(SMALL / "catalog", folder)
    with (folder / "plans.csv").open("a") as fh:
        fh.write(PRO_PLAN)
    with (folder / "charges.csv").open("a") as fh:
        fh.write(PRO_CHARGES)
    subs = (folder / "subscriptions.csv").read_text()
    (folder / "subscriptions.csv").write_text(subs.replace("sub_a,cus_a,basic_usd,2026-10-01,,calendar\n", SEGMENTS))
    return folder


@pytest.fixture(scope="module")
def changed(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("plan_change")
    tally("run", "--catalog", str(changed_catalog(tmp / "catalog")), "--landing", str(SMALL / "landing"),
          "--warehouse", str(tmp / "w.duckdb"), "--publish", str(tmp / "pub"), *MONTHS)
    return tmp / "w.duckdb"


def test_each_plan_is_billed_for_its_days_under_the_one_subscription_id(changed):
    assert rows(changed, """
        select invoice_id, external_subscription_id, period_start, period_end, fees_amount, total_amount
        from billing.invoices where external_customer_id = 'cus_a' order by period_start""") == [
        ("inv_sub_a_20261001", "sub_a", *map(_d, ("2026-10-01", "2026-10-07")), D("12.31"), D("12.31")),
        ("inv_sub_a@20261008_20261008", "sub_a", *map(_d, ("2026-10-08", "2026-10-31")), D("85.07"), D("85.07")),
        ("inv_sub_a@20261101_20261101", "sub_a", *map(_d, ("2026-11-01", "2026-11-30")), D("49.00"), D("49.00"))]
    assert rows(changed, """
        select line_id, units, amount from billing.invoice_lines
        where invoice_id like 'inv_sub_a%' and amount <> 0 order by line_id""") == [
        ("inv_sub_a@20261008_20261008:c_pro_gpus:0", D("1"), D("8.00")),
        ("inv_sub_a@20261008_20261008:c_pro_tokens:0", D("835"), D("0.42")),
        ("inv_sub_a@20261008_20261008:subscription:20261008", D("1"), D("76.65")),
        ("inv_sub_a@20261101_20261101:subscription:20261101", D("1"), D("49.00")),
        ("inv_sub_a_20261001:c_tokens:0", D("1250"), D("1.25")),
        ("inv_sub_a_20261001:subscription:20261001", D("1"), D("11.06"))]


def test_events_go_to_the_plan_active_when_they_happened(changed):
    # the usage table, published under sub_a: the large tokens of 10-09 on pro's charge
    assert rows(changed, """
        select external_subscription_id, charge_id, usage_date, cast(total_value as integer)
        from billing.usage where billable_metric_code = 'tokens' and external_subscription_id = 'sub_a'
        order by usage_date, charge_id""") == [
        ("sub_a", "c_tokens", _d("2026-10-03"), 1000), ("sub_a", "c_tokens", _d("2026-10-05"), 250),
        ("sub_a", "c_pro_tokens", _d("2026-10-09"), 835)]
    # nothing else moved: the other customers and the quarantine are the small fixture's
    assert rows(changed, "select count(*) from billing.quarantined_events") == [(11,)]
    assert rows(changed, "select currency, sum(total_amount) from billing.invoices group by 1 order by 1") == [
        ("EUR", D("144.68")), ("JPY", D("1724")), ("USD", D("146.38"))]   # 12.31 + 85.07 + 49.00


def test_simulating_the_plan_change_against_the_plan_as_billed(tmp_path):
    """The small fixture billed as it is (sub_a on basic: October 62.76, November 49.00), then
    the plan change as an overlay: the customer's October goes 62.76 -> 12.31 + 85.07 = 97.38
    (+34.62), November 49.00 -> 49.00 (the same plan again, but a new segment's invoice id)."""
    tally("run", "--catalog", str(SMALL / "catalog"), "--landing", str(SMALL / "landing"),
          "--warehouse", str(tmp_path / "w.duckdb"), "--publish", str(tmp_path / "pub"), *MONTHS)
    overlay = tmp_path / "candidate"
    overlay.mkdir()
    (overlay / "plans.csv").write_text("code,name,interval,amount,currency,pay_in_advance,trial_period,"
                                       "minimum_commitment\n" + PRO_PLAN)
    (overlay / "charges.csv").write_text((SMALL / "catalog" / "charges.csv").read_text().splitlines()[0] + "\n"
                                         + PRO_CHARGES)
    # an overlay keys subscriptions by external_id: the rows of a plan change come as a full file
    full = changed_catalog(tmp_path / "full")
    shutil.copyfile(full / "subscriptions.csv", overlay / "subscriptions.csv")
    out = tally("simulate", "--candidate", str(overlay), "--catalog", str(SMALL / "catalog"),
                "--warehouse", str(tmp_path / "w.duckdb"), *MONTHS).stdout
    assert "USD: now $111.76, candidate $146.38, difference +$34.62" in out
    assert rows(tmp_path / "w.duckdb", """
        select billing_month, sum(current_total_amount), sum(candidate_total_amount), sum(difference_amount)
        from simulation.invoice_diff where external_customer_id = 'cus_a' group by 1 order by 1""") == [
        (_d("2026-10-01"), D("62.76"), D("97.38"), D("34.62")), (_d("2026-11-01"), D("49.00"), D("49.00"), D("0"))]
    assert rows(tmp_path / "w.duckdb", """
        select invoice_id, change, current_plan_code, candidate_plan_code from simulation.invoice_diff
        where external_customer_id = 'cus_a' order by billing_month, invoice_id""") == [
        # each side's plan is the segment holding the invoice's first day
        ("inv_sub_a@20261008_20261008", "new", None, "pro_usd"),
        ("inv_sub_a_20261001", "down", "basic_usd", "basic_usd"),
        ("inv_sub_a@20261101_20261101", "new", None, "basic_usd"),
        ("inv_sub_a_20261101", "gone", "basic_usd", None)]


def _d(text: str):
    from datetime import date
    return date.fromisoformat(text)
