"""`tally explain LINE_ID` and the view `billing.invoice_line_events` (issue 15, audit trail), on
the small world (tests/fixtures/small + 10,005 API calls, October 2026: `small_billed`). Every
figure is worked out by hand next to its assertion. The progressive line is explained in
test_money.py (its world has usage thresholds), the adjustment line in test_finalize.py (its
world re-rates a finalized month), each reusing that module's billed world."""
from __future__ import annotations

from decimal import Decimal as D

import duckdb

from orchestration.explain import explain_text
from orchestration.line_events import COLUMNS
from tests.helpers import rows, tally


def explained(small_billed, line_id: str, events: int = 10) -> list[str]:
    return explain_text(small_billed["warehouse"], line_id, events).splitlines()


def test_graduated_line_shows_its_tiers_and_the_way_to_the_total(small_billed):
    # sub_a's 10,005 API calls (one a minute from Oct 1 00:30 UTC, c_calls.parquet) on graduated
    # c_calls: 0–10,000 at 0 → 10,000 × 0 = 0; 10,001–∞ at 0.002 → 5 × 0.002 = 0.01; Σ 0.01 USD.
    proc = tally("explain", "inv_sub_a_20261001:c_calls:0", "--warehouse", str(small_billed["warehouse"]),
                 "--events", "2")
    out = proc.stdout.splitlines()
    assert out[0] == "Line inv_sub_a_20261001:c_calls:0"
    assert "  customer      cus_a (Acme Analytics)" in out
    assert "  subscription  sub_a, period 2026-10-01 to 2026-10-31" in out
    assert ("  fee           charge: charge c_calls, model graduated, metric api_calls, aggregation count_agg, "
            "price bucket 0") in out
    assert "  units         10005 (full units 10005), events 10005" in out
    # the first 2 events (Parquet rows are numbered from 2, as landed) and the count
    assert "Events: 10005 (the first 2)" in out
    assert "  2026-10-01 00:30:00  c_calls.parquet           2  call_0               " in out
    assert "  2026-10-01 00:31:00  c_calls.parquet           3  call_1               " in out
    assert ("  ... 10003 more (billing.invoice_line_events where line_id = "
            "'inv_sub_a_20261001:c_calls:0')") in out
    assert "  count_agg: the number of events over 10005 events = 10005 units" in out
    assert out[out.index("Pricing") + 2:out.index("Pricing") + 8] == [
        "  tier          from            to         units    per unit      flat  amount",
        "     1             0         10000         10000           0         0  0",
        "     2         10001             ∞             5       0.002         0  0.01",
        "  Σ tier amounts = 0.01",
        "  unrounded amount  0.01",
        "  rounded amount    0.01 (USD, 2 decimals, half away from zero)",
    ]
    # the invoice: 49.00 plan + 0.01 calls + 10.00 GPUs + 1.25 and 2.51 tokens = 62.77; no
    # coupons, taxes, credit notes or wallets
    assert out[out.index("Invoice inv_sub_a_20261001"):] == [
        "Invoice inv_sub_a_20261001",
        "  fees                                 62.77   this line 0.01",
        "  progressive billing credit            0.00",
        "  coupons                               0.00",
        "  sub-total excluding taxes            62.77",
        "  taxes                                 0.00   this line 0.00: (0.01 − 0 of credit and coupons) × 0 %",
        "  sub-total including taxes            62.77",
        "  credit notes                          0.00",
        "  prepaid credits                       0.00",
        "  total                                62.77",
    ]


def test_percentage_line_with_free_units(small_billed):
    # c_jp_tokens: 1.5 %, 2 JPY per transaction, the first event free (free_units_per_events 1).
    # sub_c's tokens in its period (Oct 1–20, Tokyo): jp_1 1,000, jp_2 2,000, jp_3 3,001 = 6,001.
    # (6,001 − 1,000 free) × 1.5 % = 75.015; (3 − 1 free) × 2 = 4; 79.015 → 79 JPY (0 decimals).
    out = explained(small_billed, "inv_sub_c_20261001:c_jp_tokens:0")
    assert "Events: 3" in out
    assert [line for line in out if "b_partner.csv" in line] == [
        "  2026-10-02 00:00:00  b_partner.csv             2  jp_1                 1000",
        "  2026-10-03 00:00:00  b_partner.csv             3  jp_2                 2000",
        "  2026-10-05 00:00:00  b_partner.csv             4  jp_3                 3001",
    ]
    assert "  sum_agg: Σ tokens over 3 events = 6001 units" in out
    assert out[out.index("Pricing") + 1:out.index("Pricing") + 6] == [
        ("  percentage: rate 1.5 %, fixed fee 2 per transaction, free units per events 1, free units per total 0, "
         "no per-transaction min or max"),
        "  (6001 units − 1000 free units) × 1.5 % = 75.015",
        "  (3 events − 1 free events) × fixed fee 2 = 4",
        "  unrounded amount  79.015",
        "  rounded amount    79 (JPY, 0 decimals, half away from zero)",
    ]
    # 645 (1,000 × 20 of 31 days = 645.16…) + 79 = 724
    assert "  fees                                   724   this line 79" in out
    assert "  total                                  724" in out


def test_subscription_line_is_prorated_by_days(small_billed):
    # sub_c: 1,000 JPY a month, Oct 1–20 of 31 days: 1,000 × 20 / 31 = 645.16129… → 645
    out = explained(small_billed, "inv_sub_c_20261001:subscription:20261001")
    assert any(line.startswith("  subscription fee: plan amount 1000 × 20 fee days / 31 days of the full period")
               for line in out)
    assert "  rounded amount    645 (JPY, 0 decimals, half away from zero)" in out


def test_unknown_line_exits_2_with_a_message(small_billed):
    proc = tally("explain", "inv_nope:c_calls:0", "--warehouse", str(small_billed["warehouse"]), check=False)
    assert proc.returncode == 2
    assert "no published invoice line has the id 'inv_nope:c_calls:0'" in proc.stderr
    assert proc.stdout == ""


def test_line_events_view_has_every_counted_event(small_billed):
    warehouse = small_billed["warehouse"]
    assert rows(warehouse, "select table_type from information_schema.tables where table_schema = 'billing' "
                           "and table_name = 'invoice_line_events'") == [("VIEW",)]
    with duckdb.connect(str(warehouse), read_only=True) as con:
        columns = [r[0] for r in con.execute("select * from billing.invoice_line_events limit 0").description]
    assert columns == [name for name, _ in COLUMNS]
    # every usage line's events are exactly the ones its meter counted
    assert rows(warehouse, """
        select lines.line_id, lines.events_count, count(events.line_id)
        from billing.invoice_lines as lines
        left join billing.invoice_line_events as events on lines.line_id = events.line_id
        group by all having lines.events_count <> count(events.line_id)""") == []
    # sub_b's recurring seats (unique count): ids and operations, 7 events, 4 seats
    assert rows(warehouse, """
        select transaction_id, field_value, operation_type, value from billing.invoice_line_events
        where line_id = 'inv_sub_b_20261016:c_seats:0' order by event_at limit 4""") == [
        ("seat_1", "u1", "add", None), ("seat_2", "u2", "add", None), ("seat_3", "u3", "add", None),
        ("seat_4", "u2", "remove", None)]
    assert rows(warehouse, "select sum(value) from billing.invoice_line_events "
                           "where line_id = 'inv_sub_c_20261001:c_jp_tokens:0'") == [(D(6001),)]
