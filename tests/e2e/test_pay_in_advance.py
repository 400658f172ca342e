"""Pay-in-advance (instant) charges end to end (issue 17 item 2; decision 23): each event's fee is
the charge model's price with the event minus without it, per billed period, price bucket and
group, rounded once; invoiceable fees go on invoices of their own (one per event, or per local
day with instant_invoice_grouping = day); the period-end invoice never bills them again. One
`tally run` over September 2026 (UTC) of the world in tests/e2e/pay_in_advance_world.py, then a
second batch of events. Cases marked LAGO reproduce getlago/lago-api
spec/scenarios/pay_in_advance_charges_spec.rb (the case named), with its dates moved to
September 2026; every figure is worked by hand next to its assertion."""
from __future__ import annotations

import json
from datetime import date
from decimal import Decimal as D
from pathlib import Path

import duckdb
import pytest

from tests.e2e.pay_in_advance_world import write_world
from tests.helpers import tally


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> dict:
    root = tmp_path_factory.mktemp("pay_in_advance")
    catalog, landing = write_world(root)
    warehouse = root / "warehouse.duckdb"
    args = ("run", "--catalog", str(catalog), "--landing", str(landing), "--warehouse", str(warehouse),
            "--period", "2026-09", "--publish", str(root / "published"))
    tally(*args)
    first = snapshot(warehouse)
    # a second batch: one more event for s_grad on Sep 8 and a fourth seat for s_seat on Sep 29
    # (which changes September's opening fee for October), then a run that lands nothing
    (landing / "late.jsonl").write_text("".join(json.dumps(e) + "\n" for e in (
        {"transaction_id": "late1", "external_subscription_id": "s_grad", "code": "tokens",
         "timestamp": "2026-09-08T10:00:00Z", "properties": {"tokens": 30}},
        {"transaction_id": "late2", "external_subscription_id": "s_seat", "code": "seats",
         "timestamp": "2026-09-29T10:00:00Z", "properties": {"user_id": "u4"}})))
    tally(*args)
    second = snapshot(warehouse)
    tally(*args)
    third = snapshot(warehouse)
    # the same files billed from scratch in a fresh warehouse
    scratch = root / "scratch.duckdb"
    tally(*[str(scratch) if a == str(warehouse) else a for a in args])
    return {"warehouse": warehouse, "first": first, "second": second, "third": third, "scratch": snapshot(scratch)}


def snapshot(warehouse: Path) -> dict:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return {t: con.execute(f"select * from billing.{t} order by all").fetchall()
                for t in ("instant_fees", "invoices", "invoice_lines")}


def fees(world: dict, sub: str, run: str = "second") -> list[tuple]:
    """(units, amount) of each instant fee of `sub`, in event order."""
    with duckdb.connect(str(world["warehouse"]), read_only=True) as con:
        rows = con.execute("select units, amount from billing.instant_fees where external_subscription_id = ? "
                           "order by event_at", [sub]).fetchall()
    return [(D(u).normalize(), D(a)) for u, a in rows]


def query(world: dict, sql: str, *params) -> list[tuple]:
    with duckdb.connect(str(world["warehouse"]), read_only=True) as con:
        return con.execute(sql, list(params)).fetchall()


def money(*values: str) -> list[D]:
    return [D(v) for v in values]


# ---------------------------------------------------------------- Tally's own hand-worked cases

def test_graduated_events_crossing_a_tier(world):
    """tokens, graduated [0, 100] 0.02/unit and [100, ∞) 0.01/unit + flat 3 (adjacent ranges).
    price(60) = 60 × 0.02 = 1.20; price(130) = 100 × 0.02 + 30 × 0.01 + 3 = 5.30;
    price(180) = 2 + 80 × 0.01 + 3 = 5.80; the second batch's 30 tokens: price(210) = 2 + 1.10 + 3 = 6.10.
    Fees: 1.20 − 0; 5.30 − 1.20 = 4.10 (crosses the tier: its flat and 30 units at 0.01);
    5.80 − 5.30 = 0.50; 6.10 − 5.80 = 0.30. Σ = 6.10 = price(210)."""
    assert fees(world, "s_grad") == [(D(60), D("1.20")), (D(70), D("4.10")), (D(50), D("0.50")),
                                     (D(30), D("0.30"))]


def test_instant_graduated_fees_have_the_tier_rows_of_their_difference(world):
    """billing.fee_tiers of s_grad's instant lines (decision 25): price(after) − price(before) tier by
    tier, tiers [0, 100] 0.02 and [100, ∞) 0.01 + flat 3 (adjacent: tier 2 holds the units above 100).
    0 → 60: tier 1, 60 units, 1.20. 60 → 130: tier 1, 100 − 60 = 40 units, 0.80; tier 2 entered,
    30 units, 0.30 + flat 3 = 3.30; Σ 4.10 = the fee. 130 → 180: tier 2, 50 units, 0.50. 180 → 210:
    tier 2, 30 units, 0.30. Each line's tier amounts add up to its amount; its full units are its
    units (an instant charge is never prorated)."""
    rows = query(world, """select l.amount, l.units, l.full_units, t.tier_index, t.units, t.flat_amount, t.amount
                           from billing.invoice_lines as l
                           inner join billing.invoices as i on l.invoice_id = i.invoice_id
                           inner join billing.fee_tiers as t on l.line_id = t.line_id
                           where i.external_subscription_id = 's_grad'
                           order by i.issuing_date, t.tier_index""")
    assert rows == [
        (D("1.20"), D(60), D(60), 1, D(60), D(0), D("1.2")),
        (D("4.10"), D(70), D(70), 1, D(40), D(0), D("0.8")),
        (D("4.10"), D(70), D(70), 2, D(30), D(3), D("3.3")),
        (D("0.50"), D(50), D(50), 2, D(50), D(0), D("0.5")),
        (D("0.30"), D(30), D(30), 2, D(30), D(0), D("0.3")),
    ]


def test_instant_invoices_get_coupons_and_taxes_in_lagos_order(world):
    """s_grad's customer pays VAT 10 % and has a 1.00 fixed coupon (once), applied 2026-09-01.
    Sep 5 invoice: fees 1.20 − coupon 1.00 = 0.20, tax 0.02, total 0.22 (the first invoice
    issued takes the coupon); Sep 6: 4.10 + 0.41 = 4.51; Sep 7: 0.50 + 0.05 = 0.55; Sep 8:
    0.30 + 0.03 = 0.33. The closing invoice (issued Oct 1) bills no charge: 0.00."""
    rows = query(world, """select issuing_date, invoice_type, fees_amount, coupons_amount, taxes_amount, total_amount
                           from billing.invoices where external_subscription_id = 's_grad' order by issuing_date""")
    assert [(str(d), t, f, c, x, tot) for d, t, f, c, x, tot in rows] == [
        ("2026-09-05", "subscription", D("1.20"), D("1.00"), D("0.02"), D("0.22")),
        ("2026-09-06", "subscription", D("4.10"), D("0.00"), D("0.41"), D("4.51")),
        ("2026-09-07", "subscription", D("0.50"), D("0.00"), D("0.05"), D("0.55")),
        ("2026-09-08", "subscription", D("0.30"), D("0.00"), D("0.03"), D("0.33")),
        ("2026-10-01", "subscription", D("0.00"), D("0.00"), D("0.00"), D("0.00")),
    ]


def test_a_wallet_pays_instant_invoices_in_the_order_they_are_issued(world):
    """c1 has 15.00 of granted credits (wallet w1, from Sep 1). Its invoices with something to pay,
    in issue order: s_pct Sep 10 03:00 0.50, 04:00 5.00, 05:00 0.70 (the free events' 0.00
    invoices take nothing); s_day's Sep 10 invoice (2.00, issued at its last event, 09:00); Sep 11
    1.00; s_pkg Sep 12 02:00 10.00 takes what is left: 15 − 0.50 − 5 − 0.70 − 2 − 1 = 5.80, so
    its total is 4.20; every later invoice is paid by no credit."""
    rows = query(world, """select external_subscription_id, fees_amount, prepaid_credit_amount, total_amount
                           from billing.invoices where external_customer_id = 'c1' and prepaid_credit_amount > 0
                           order by issuing_date, external_subscription_id, fees_amount""")
    assert rows == [("s_day", D("2.00"), D("2.00"), D("0.00")), ("s_pct", D("0.50"), D("0.50"), D("0.00")),
                    ("s_pct", D("0.70"), D("0.70"), D("0.00")), ("s_pct", D("5.00"), D("5.00"), D("0.00")),
                    ("s_day", D("1.00"), D("1.00"), D("0.00")), ("s_pkg", D("10.00"), D("5.80"), D("4.20"))]


def test_nothing_is_billed_twice(world):
    """No closing (period-end) invoice bills a pay-in-advance charge's usage of the period: every
    charge of the world is one, so the closing invoices hold their subscription line (0.00), for
    s_commit the commitment true-up, and for s_seat (a recurring metric) only October's opening
    fee, the units carried into the next period. The instant fees are on their own invoices once."""
    closing_charge_lines = query(world, """
        select l.line_id from billing.invoice_lines as l
        inner join billing.invoices as i on l.invoice_id = i.invoice_id
        where i.issuing_date = date '2026-10-01' and l.fee_type = 'charge'""")
    assert closing_charge_lines == [("inv_s_seat_20260901:ch_seat:0:20261001",)]
    # each invoiceable fee is one line, on the invoice billing.instant_fees names
    assert query(world, """
        select count(*), count(distinct f.line_id), sum(f.amount) = sum(l.amount)
        from billing.instant_fees as f inner join billing.invoice_lines as l on f.line_id = l.line_id""") == [
        (29, 29, True)]  # s_l_sum 3 + s_grad 4 + s_pct 5 + s_pkg 5 + s_day 3 + s_commit 3 + s_seat 5 + its opening


def test_percentage_with_free_events_and_a_per_transaction_minimum(world):
    """rate 2 %, fixed 0.10 per event, the first 2 events free, min 0.50, max 5 per event:
    100 free, 50 free; 10 × 2 % + 0.10 = 0.30 → the minimum 0.50; 1000 × 2 % + 0.10 = 20.10 →
    the maximum 5.00; 30 × 2 % + 0.10 = 0.70."""
    assert [a for _, a in fees(world, "s_pct")] == money("0.00", "0.00", "0.50", "5.00", "0.70")


def test_package_crossing_a_package(world):
    """count, package of 3 at 10.00, 1 free unit: price(u) = ceil((u − 1) / 3) × 10 → 0, 10, 10,
    10, 20 for 1..5 events: a fee of 10.00 when an event opens a package (the 2nd, the 5th)."""
    assert [a for _, a in fees(world, "s_pkg")] == money("0.00", "10.00", "0.00", "0.00", "10.00")


def test_day_grouping_one_invoice_per_local_day(world):
    """instant_invoice_grouping = day: Sep 10 (two calls at 1.00) and Sep 11 (one)."""
    rows = query(world, """select i.invoice_id, i.issuing_date, i.fees_amount, count(*) from billing.invoices as i
                           inner join billing.invoice_lines as l on i.invoice_id = l.invoice_id
                           where i.external_subscription_id = 's_day' and l.fee_type = 'charge'
                           group by all order by 2""")
    assert [(i, str(d), f, n) for i, d, f, n in rows] == [
        ("inv_s_day_20260910_adv", "2026-09-10", D("2.00"), 2), ("inv_s_day_20260911_adv", "2026-09-11", D("1.00"), 1)]


def test_the_minimum_commitment_counts_instant_fees(world):
    """Lago's commitment true-up counts in-advance fees (commitments/minimum/
    calculate_true_up_fee_service.rb): 3 calls × 10.00 = 30.00 instant; commitment 50.00 →
    the closing invoice bills 20.00. (A charge's own min_amount on a pay-in-advance charge is
    refused, as Lago: tests/unit/test_catalog_in_advance.py.)"""
    assert [a for _, a in fees(world, "s_commit")] == money("10.00", "10.00", "10.00")
    assert query(world, """select l.amount from billing.invoice_lines as l
                           inner join billing.invoices as i on l.invoice_id = i.invoice_id
                           where i.external_subscription_id = 's_commit' and l.fee_type = 'commitment'""") == [
        (D("20.00"),)]


def test_not_invoiceable_fees_are_recorded_without_an_invoice(world):
    """The LAGO cases' charges (but s_l_sum) and s_rsum are invoiceable = false: 2 + 7 + 3 + 3 + 3 + 2 + 3
    + 2 = 25 fees, and s_rsum's 3 and its October opening fee: 29, recorded in billing.instant_fees,
    none on an invoice; their subscriptions get only their closing invoice."""
    assert query(world, "select count(*), count(invoice_id) from billing.instant_fees where not invoiceable") == [
        (29, 0)]
    assert query(world, "select count(*) from billing.invoices where external_subscription_id = 's_l_count' "
                        "and issuing_date < date '2026-10-01'") == [(0,)]


def test_incremental_a_new_batch_adds_its_fees_and_a_rerun_changes_nothing(world):
    """The second batch adds two event fees (s_grad, s_seat) and changes one fee in place:
    s_seat's opening fee for October (no event: event_at is None), rated again with September."""
    first, second = world["first"], world["second"]
    changed = set(first["instant_fees"]) - set(second["instant_fees"])
    assert [(f[1], f[6]) for f in changed] == [("s_seat", None)]
    assert len(second["instant_fees"]) == len(first["instant_fees"]) + 2
    assert world["third"] == second
    # the incremental runs give what one run from scratch over the same files gives
    assert world["scratch"] == second


# ---------------------------------------------------------------- recurring metrics in advance (decision 23)

def opening_fees(world: dict, sub: str) -> list[tuple]:
    """The opening fees of `sub` (a recurring charge's units carried into the next period)."""
    return query(world, """select usage_date, units, events_count_on_line, amount, invoice_id, line_id
                           from (select f.*, l.events_count as events_count_on_line from billing.instant_fees as f
                                 left join billing.invoice_lines as l on f.line_id = l.line_id)
                           where external_subscription_id = ? and event_at is null""", sub)


def test_a_prorated_seat_in_advance_bills_the_days_left_and_never_refunds(world):
    """s_seat: a recurring unique count, prorated, standard 10.00 a month, in advance; September
    has 30 days. u1 added Sep 15 10:00: the days left from the event to the period's end, the
    event's day included (Lago: ceil((Sep 30 23:59:59.999 − Sep 15 10:00) / 1 day) = ceil(15.58)
    = 16), 1 × 16/30 = 0.533333… → ceil to 5 decimals 0.53334 × 10 = 5.3334 → 5.33, shown as 1 unit;
    u2 added Sep 22: 9 days, 9/30 × 10 = 3.00; u1 removed Sep 25: nothing refunded, 0.00 for 0
    units; u3 added Sep 28: 2 seats, the highest level so far (2) is not passed: 0.00 for 1 unit;
    u4 (the second batch) added Sep 29 10:00: 3 seats, 1 above the highest: ceil(1 d 14 h) = 2 days,
    2/30 = 0.066666… → 0.06667 × 10 = 0.6667 → 0.67."""
    assert [(D(u).normalize(), D(a)) for u, a in query(world, """
        select units, amount from billing.instant_fees
        where external_subscription_id = 's_seat' and event_at is not null order by event_at""")] == [
        (D(1), D("5.33")), (D(1), D("3.00")), (D(0), D("0.00")), (D(1), D("0.00")), (D(1), D("0.67"))]


def test_the_carried_seats_are_billed_in_advance_on_the_invoice_closing_the_period(world):
    """The seats active at the end of September (u2, u3, u4) are October's, billed in full (not
    prorated) in advance by the invoice closing September, issued Oct 1, as Lago's period-end
    run bills a recurring metric's in-advance charge for the next period (invoices/
    calculate_fees_service.rb; spec/scenarios/fees/recurring_fees_spec.rb: the renewal invoice's
    charge fee): 3 × 10.00 = 30.00, a `charge` line that counts the 5 events since the start.
    In billing.instant_fees it has no event; its day is October's first. The first run, before
    u4 landed, billed 2 × 10.00 = 20.00: the second batch rated September again."""
    assert [(str(d), D(u).normalize(), n, a, i, line) for d, u, n, a, i, line in opening_fees(world, "s_seat")] == [
        ("2026-10-01", D(3), 5, D("30.00"), "inv_s_seat_20260901", "inv_s_seat_20260901:ch_seat:0:20261001")]
    assert query(world, """select issuing_date, fees_amount, total_amount from billing.invoices
                           where invoice_id = 'inv_s_seat_20260901'""") == [
        (date(2026, 10, 1), D("30.00"), D("30.00"))]
    [first_opening] = [f for f in world["first"]["instant_fees"] if f[1] == "s_seat" and f[6] is None]
    assert (D(first_opening[10]), D(first_opening[12])) == (D(2), D("20.00"))


def test_a_recurring_sum_in_advance_bills_the_rise_and_opens_october_with_its_units(world):
    """s_rsum: a recurring sum, standard 1.00, in advance, invoiceable = false. +5 → 5.00;
    −2 → 0.00 (no refund); +3 → the sum is 6, 1 above the highest 5: 1.00 for 1 unit. October's
    opening fee: the 6 units carried, 6.00, recorded without an invoice (Lago: a non-invoiceable
    recurring fee, invoice_id nil, spec/scenarios/fees/recurring_fees_spec.rb 'with invoiceable =
    false')."""
    assert fees(world, "s_rsum")[:3] == [(D(5), D("5.00")), (D(0), D("0.00")), (D(1), D("1.00"))]
    assert [(str(d), D(u).normalize(), a, i) for d, u, _, a, i, _ in opening_fees(world, "s_rsum")] == [
        ("2026-10-01", D(6), D("6.00"), None)]


# ---------------------------------------------------------------- LAGO spec/scenarios/pay_in_advance_charges_spec.rb

def test_lago_count_agg_standard(world):
    """LAGO 'with count_agg / standard': amount 10, invoiceable false: each event 10.00, 1 unit."""
    assert fees(world, "s_l_count") == [(D(1), D("10.00")), (D(1), D("10.00"))]


def test_lago_unique_count_agg_standard(world):
    """LAGO 'with unique_count_agg / standard': amount 12. id_1 added 12.00; removed 0 (0 units);
    added again 0.00 for 1 unit (the highest count, 1, is not passed); id_2 12.00; id_2 again:
    Lago makes no fee, Tally records 0.00 for 0 units (decision 23); id_3 12.00; id_3 removed 0."""
    assert fees(world, "s_l_uc") == [(D(1), D("12.00")), (D(0), D("0.00")), (D(1), D("0.00")), (D(1), D("12.00")),
                                     (D(0), D("0.00")), (D(1), D("12.00")), (D(0), D("0.00"))]


def test_lago_sum_agg_standard(world):
    """LAGO 'with sum_agg / standard': amount 1: +10 → 10.00 (10 units); −4 → 0 (not refunded);
    +8 → the sum is 14, 4 above the highest 10: 4.00 for 4 units."""
    assert fees(world, "s_l_sum") == [(D(10), D("10.00")), (D(0), D("0.00")), (D(4), D("4.00"))]


def test_lago_sum_agg_package(world):
    """LAGO 'with sum_agg / package': 100 per 2 units, 3 free: 3 → 0; 4 → ceil(1/2) × 100 =
    100.00; 6 → ceil(3/2) × 100 = 200, 100.00 more."""
    assert fees(world, "s_l_pkg") == [(D(3), D("0.00")), (D(1), D("100.00")), (D(2), D("100.00"))]


def test_lago_sum_agg_graduated(world):
    """LAGO 'with sum_agg / graduated': [0, 5] 0.02 + flat 0.01, [6, ∞) 0.01 + flat 0.01:
    3 → 0.01 + 3 × 0.02 = 0.07 (the first event pays the flat); 4 → 0.09: 0.02; 6 → 0.01 + 0.10
    + 0.01 + 1 × 0.01 = 0.13: 0.04."""
    assert fees(world, "s_l_grad") == [(D(3), D("0.07")), (D(1), D("0.02")), (D(2), D("0.04"))]


def test_lago_sum_agg_percentage(world):
    """LAGO 'with sum_agg / percentage': rate 5 %, fixed 1.
    'with free_units_per_events' (2 free events, 120 free amount): 8, 5 free; 3 → 3 × 5 % + 1 = 1.15.
    'with free_units_per_total_aggregation' (1 free event, 120): 2 free; 1 → 1.05.
    'with min / max per transaction' (rate 1 %, fixed 0.5, min 1.75, max 2): 100 → 1.50 → 1.75;
    1000 → 10.50 → 2.00; 10000 → 2.00.
    'creates an pay_in_advance fee' (3.0 free amount): 5 → 1 + 2 × 5 % = 1.10; 1 → 1.05."""
    assert [a for _, a in fees(world, "s_l_pct_ev")] == money("0.00", "0.00", "1.15")
    assert [a for _, a in fees(world, "s_l_pct_tot")] == money("0.00", "1.05")
    assert [a for _, a in fees(world, "s_l_pct_mm")] == money("1.75", "2.00", "2.00")
    assert [a for _, a in fees(world, "s_l_pct_t3")] == money("1.10", "1.05")
