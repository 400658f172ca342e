"""End to end over tests/fixtures/small: a catalog and events whose invoices are worked out
by hand below, billed through the real `tally run` (Dagster in process, dbt, publish)."""
from __future__ import annotations

import shutil
from decimal import Decimal as D
from pathlib import Path

import pytest

from tests.helpers import SMALL_API_CALLS, rows, table_dump, tally

API_CALLS = SMALL_API_CALLS
@pytest.fixture
def billed(small_billed):
    """October 2026 of the small fixture, billed once per session (tests/e2e/conftest.py)."""
    return small_billed


def invoice_totals(warehouse: Path) -> dict[str, D]:
    return dict(rows(warehouse, "select invoice_id, total_amount from billing.invoices"))


def test_invoices_match_hand_computed_figures(billed):
    assert invoice_totals(billed["warehouse"]) == {
        # sub_a (USD, arrears): 49.00 plan
        #   + API calls, graduated 0–10,000 free then 0.002: (10,005 − 10,001 + 1) × 0.002 = 0.01
        #   + tokens default bucket (small 1,000 + unlabelled 250) × 0.001 = 1.25
        #   + tokens "large" filter 835 × 0.003 = 2.505 → 2.51 (half up)
        #   + GPUs weighted sum: (0 × 10 d + 2 × 10 d + 1 × 11 d) / 31 d = 1 GPU × 10.00
        "inv_sub_a_20261001": D("62.77"),
        # sub_b (EUR, in advance, starts Oct 16): opening invoice 30.00 × 16/31 = 15.4838… → 15.48
        "inv_sub_b_20261016_open": D("15.48"),
        # closing Oct 16–31: November in advance 30.00
        #   + seats (recurring unique count: u1, u3, u4, u5 active; u2 removed) 4 − 1 free = 3 → 2 packages × 5
        #   + storage max 120.5 GB, volume: 101–∞ range (from 101 ≤ ceil(120.5)) → 120.5 × 0.4 = 48.20
        "inv_sub_b_20261016": D("88.20"),
        # sub_c (JPY, ends Oct 20): 1000 × 20/31 = 645.16 → 645
        #   + percentage 1.5 % on 6,001 tokens, first event (1,000) free, 2 per paid event:
        #     (6001 − 1000) × 1.5 % + 2 × 2 = 79.015 → 79
        "inv_sub_c_20261001": D("724"),
    }


def test_lines_and_tiers(billed):
    lines = {l: (fee, u, n, a) for l, fee, u, n, a in rows(
        billed["warehouse"],
        "select line_id, fee_type, units, events_count, amount from billing.invoice_lines "
        "where invoice_id = 'inv_sub_a_20261001'")}
    assert lines["inv_sub_a_20261001:c_calls:0"] == ("charge", D(API_CALLS), API_CALLS, D("0.01"))
    assert lines["inv_sub_a_20261001:c_tokens:0"] == ("charge", D(1250), 2, D("1.25"))
    assert lines["inv_sub_a_20261001:c_tokens:1"] == ("charge", D(835), 1, D("2.51"))
    assert lines["inv_sub_a_20261001:c_gpus:0"] == ("charge", D(1), 2, D("10.00"))
    assert lines["inv_sub_a_20261001:subscription:20261001"][3] == D("49.00")
    tiers = rows(billed["warehouse"], "select tier_index, units, amount from billing.fee_tiers "
                                      "where line_id = 'inv_sub_a_20261001:c_calls:0' order by tier_index")
    assert tiers == [(1, D(10000), D(0)), (2, D(5), D("0.01"))]


def test_advance_plan_bills_next_period_on_closing_invoice(billed):
    sub_lines = rows(billed["warehouse"],
                     "select invoice_id, line_id, amount from billing.invoice_lines "
                     "where fee_type = 'subscription' and invoice_id like 'inv_sub_b%' order by 1")
    assert sub_lines == [
        ("inv_sub_b_20261016", "inv_sub_b_20261016:subscription:20261101", D("30.00")),
        ("inv_sub_b_20261016_open", "inv_sub_b_20261016_open:subscription:20261016", D("15.48")),
    ]
    dates = rows(billed["warehouse"], "select invoice_id, period_start, period_end, issuing_date, currency "
                                      "from billing.invoices where invoice_id like 'inv_sub_b%' order by 1")
    assert [(i, str(s), str(e), str(d), c) for i, s, e, d, c in dates] == [
        ("inv_sub_b_20261016", "2026-10-16", "2026-10-31", "2026-11-01", "EUR"),
        ("inv_sub_b_20261016_open", "2026-10-16", "2026-10-31", "2026-10-16", "EUR"),
    ]


def test_every_bad_event_is_quarantined_with_its_reason(billed):
    got = sorted(rows(billed["warehouse"],
                      "select coalesce(transaction_id, '<none>'), reason from billing.quarantined_events"))
    assert got == sorted([
        ("bad_ts", "bad_timestamp"),
        ("bad_metric", "unknown_metric"),
        ("bad_value", "non_numeric_value"),
        ("bad_field", "missing_field"),
        ("<none>", "missing_field"),            # no transaction_id
        ("<none>", "malformed_json"),           # truncated line
        ("gb_early", "no_active_subscription"),  # 23:30 Paris on Oct 15, the day before sub_b starts
        ("jp_late", "no_active_subscription"),   # 01:00 Tokyo on Oct 21, after sub_c ended
        ("tok_3", "conflicting_duplicate"),
        ("bad_cust", "unknown_customer"),
        ("bad_sub", "unknown_subscription"),
    ])
    payloads = dict(rows(billed["warehouse"], "select reason, payload from billing.quarantined_events "
                                              "where reason = 'malformed_json'"))
    assert payloads["malformed_json"].startswith('{"transaction_id": "broken"')


def test_events_sent_add_up(billed):
    # 21 JSONL lines + 8 CSV rows + 10,005 Parquet rows = 10,034 sent
    # = 11 quarantined + 1 exact duplicate ignored (tok_1 resent in the CSV) + 10,022 billed
    assert "events sent: 10034 = billed 10022 + quarantined 11 + duplicates ignored 1" in billed["stdout"]


def test_published_files_per_month(billed):
    month = billed["base"] / "published" / "2026-10"
    assert sorted(p.name for p in month.iterdir()) == sorted(
        f"{t}.{f}" for t in ("invoices", "invoice_lines", "fee_tiers") for f in ("parquet", "csv"))
    assert (month / "invoices.csv").read_text().count("\n") == 1 + 4


def test_same_inputs_twice_identical(billed, tmp_path):
    # (a fresh warehouse giving the same tables is test_recovery's clean run vs killed-and-rerun)
    # the second run goes to a copy of the billed warehouse and publication: the shared one stays as billed
    warehouse, published = tmp_path / "w.duckdb", tmp_path / "published"
    shutil.copy(billed["warehouse"], warehouse)
    shutil.copytree(billed["published"], published)
    first = table_dump(warehouse)
    again = tally("run", "--catalog", str(billed["catalog"]), "--landing", str(billed["landing"]),
                  "--warehouse", str(warehouse), "--period", "2026-10", "--publish", str(published))
    assert "events sent: 10034" in again.stdout
    assert table_dump(warehouse) == first
    assert first == table_dump(billed["warehouse"])


def test_late_event_billed_when_month_rerun_and_file_loaded_once(billed, tmp_path):
    landing = tmp_path / "landing"
    shutil.copytree(billed["landing"], landing)
    # the same file under another name is recognised by checksum and not loaded again
    shutil.copy(landing / "a_events.jsonl", landing / "d_copy_of_a.jsonl")
    (landing / "e_late.jsonl").write_text(
        '{"transaction_id": "tok_late", "external_subscription_id": "sub_a", "code": "tokens", '
        '"timestamp": "2026-10-31T23:59:59Z", "properties": {"tokens": 1000, "model": "large"}}\n')
    warehouse = tmp_path / "w.duckdb"
    shutil.copy(billed["warehouse"], warehouse)
    tally("run", "--catalog", str(billed["catalog"]), "--landing", str(landing), "--warehouse", str(warehouse),
          "--period", "2026-10", "--publish", str(tmp_path / "pub"))
    totals = invoice_totals(warehouse)
    # large tokens 835 + 1000 = 1835 × 0.003 = 5.505 → 5.51, instead of 2.51: +3.00
    assert totals["inv_sub_a_20261001"] == D("65.77")
    assert rows(warehouse, "select count(*) from raw.landing_files") == [(4,)]
