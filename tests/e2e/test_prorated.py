"""Prorated charges end to end (issue 17 item 1, Lago charge.prorated): units weighted by the share
of the period each one is active, from the daily meters, through `tally run` over September (30
days) and October 2026 (31 days). Every figure is worked by hand next to its assertion; the rules
and their Lago files are in docs/decisions.md (21)."""
from __future__ import annotations

import json
import shutil
from decimal import Decimal as D
from pathlib import Path

import duckdb
import pytest

from tests.helpers import tally

GRADUATED = ('{""graduated_ranges"": [{""from_value"": 0, ""to_value"": 1, ""per_unit_amount"": ""10"", '
             '""flat_amount"": ""0""}, {""from_value"": 2, ""to_value"": null, ""per_unit_amount"": ""20"", '
             '""flat_amount"": ""0""}]}')
VOLUME = ('{""volume_ranges"": [{""from_value"": 0, ""to_value"": 2, ""per_unit_amount"": ""10"", '
          '""flat_amount"": ""5""}, {""from_value"": 3, ""to_value"": null, ""per_unit_amount"": ""6"", '
          '""flat_amount"": ""5""}]}')
CATALOG = {
    "customers.csv": """external_id,name,currency,timezone,tax_codes
c_utc,UTC,USD,UTC,
c_ny,New York,USD,America/New_York,
""",
    "billable_metrics.csv": ("code,name,aggregation_type,field_name,recurring,"
                             "rounding_function,rounding_precision,filters") + """
seats,Seats,sum_agg,seats,true,,,
users,Users,unique_count_agg,user_id,true,,,
""",
    "plans.csv": """code,name,interval,amount,currency,pay_in_advance,trial_period,minimum_commitment
p_std,Seats,monthly,0,USD,false,0,
p_k,Seats at 1000,monthly,0,USD,false,0,
p_grad,Graduated seats,monthly,0,USD,false,0,
p_vol,Volume seats,monthly,0,USD,false,0,
p_uc,Users,monthly,0,USD,false,0,
""",
    "charges.csv": ("id,plan_code,billable_metric_code,charge_model,properties,pay_in_advance,"
                    "min_amount,invoice_display_name,filters,prorated") + f"""
ch_std,p_std,seats,standard,"{{""amount"": ""30""}}",false,,Seats,,true
ch_k,p_k,seats,standard,"{{""amount"": ""1000""}}",false,,Seats,,true
ch_grad,p_grad,seats,graduated,"{GRADUATED}",false,,Seats,,true
ch_vol,p_vol,seats,volume,"{VOLUME}",false,,Seats,,true
ch_uc,p_uc,users,standard,"{{""amount"": ""31""}}",false,,Users,,true
""",
    "subscriptions.csv": """external_id,external_customer_id,plan_code,started_at,ending_at,billing_time
s_std,c_utc,p_std,2026-09-01,,calendar
s_third,c_utc,p_k,2026-09-01,,calendar
s_tz,c_ny,p_std,2026-09-01,,calendar
s_zero,c_utc,p_std,2026-09-01,,calendar
s_grad,c_utc,p_grad,2026-09-01,,calendar
s_vol,c_utc,p_vol,2026-09-01,,calendar
s_uc,c_utc,p_uc,2026-09-01,,calendar
""",
}


def seat(tid: str, sub: str, at: str, seats: int) -> dict:
    return {"transaction_id": tid, "external_subscription_id": sub, "code": "seats", "timestamp": at,
            "properties": {"seats": seats}}


def user(tid: str, at: str, user_id: str, operation: str = "add") -> dict:
    return {"transaction_id": tid, "external_subscription_id": "s_uc", "code": "users", "timestamp": at,
            "properties": {"user_id": user_id, "operation_type": operation}}


@pytest.fixture(scope="module")
def billed(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("prorated")
    catalog, landing = root / "catalog", root / "landing"
    catalog.mkdir()
    landing.mkdir()
    for name, text in CATALOG.items():
        (catalog / name).write_text(text)
    events = [
        seat("a1", "s_std", "2026-09-15T10:00:00Z", 1),     # added on the 15th
        seat("a2", "s_std", "2026-10-22T10:00:00Z", -1),    # removed on the 22nd of the next month
        seat("k1", "s_third", "2026-09-21T10:00:00Z", 1),   # a third of September
        seat("t1", "s_tz", "2026-09-16T03:00:00Z", 1),      # Sep 15, 23:00 in New York
        seat("g1", "s_grad", "2026-09-01T10:00:00Z", 1),
        seat("g2", "s_grad", "2026-09-16T10:00:00Z", 1),
        seat("v1", "s_vol", "2026-09-11T10:00:00Z", 3),
        user("u1", "2026-09-20T10:00:00Z", "ann"),
        user("u2", "2026-10-10T10:00:00Z", "ann", "remove"),
        user("u3", "2026-10-25T10:00:00Z", "bob"),
    ]
    (landing / "events.jsonl").write_text("".join(json.dumps(e) + "\n" for e in events))
    warehouse = root / "warehouse.duckdb"
    tally("run", "--catalog", str(catalog), "--landing", str(landing), "--warehouse", str(warehouse),
          "--from", "2026-09", "--to", "2026-10", "--publish", str(root / "published"))
    return warehouse


def charge_lines(warehouse: Path, sub: str) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute("""select strftime(i.period_start, '%Y-%m'), l.units, l.amount
                              from billing.invoice_lines as l
                              inner join billing.invoices as i on l.invoice_id = i.invoice_id
                              where i.external_subscription_id = ? and l.fee_type = 'charge'
                              order by 1""", [sub]).fetchall()


def test_a_seat_added_on_the_15th_and_removed_on_the_22nd_of_the_next_month(billed):
    assert charge_lines(billed, "s_std") == [
        # September: active from the 15th to the 30th, both inclusive: 16/30 = 0.533333… → ceil(5)
        # 0.53334 units × 30 = 16.0002 → 16.00
        ("2026-09", D("0.53334"), D("16.00")),
        # October: carried for the 31 days (1 × 31/31) and −1 from the 22nd to the 31st (−10/31):
        # 21/31 = 0.677419… → 0.67742 × 30 = 20.3226 → 20.32 (the removal day is not billed)
        ("2026-10", D("0.67742"), D("20.32")),
    ]


def test_units_are_ceiled_to_5_decimals(billed):
    # 10 days of 30 (the 21st to the 30th): 1/3 → 0.33334 units; × 1000 = 333.34 (333.33 unceiled)
    assert charge_lines(billed, "s_third")[0] == ("2026-09", D("0.33334"), D("333.34"))


def test_days_are_the_customers(billed):
    # 03:00 UTC on the 16th is 23:00 on the 15th in New York: 16/30, as s_std (UTC would be 15/30)
    assert charge_lines(billed, "s_tz")[0] == ("2026-09", D("0.53334"), D("16.00"))


def test_zero_usage_is_a_zero_line(billed):
    assert charge_lines(billed, "s_zero") == [("2026-09", D("0"), D("0.00")), ("2026-10", D("0"), D("0.00"))]


def test_prorated_graduated_prices_each_seat_in_the_tier_it_enters(billed):
    assert charge_lines(billed, "s_grad") == [
        # 1st seat on Sep 1, whole month (30/30) in tier 1 at 10; 2nd on Sep 16, 15/30 = 0.5 in
        # tier 2 at 20: 10 + 10 = 20 (unprorated graduated would bill 10 + 20 = 30); units 1.5
        ("2026-09", D("1.50000"), D("20.00")),
        # October: both carried for the whole month: 10 + 20 = 30
        ("2026-10", D("2.00000"), D("30.00")),
    ]


def test_prorated_volume_picks_the_range_by_full_units(billed):
    assert charge_lines(billed, "s_vol") == [
        # 3 seats from Sep 11: 3 × 20/30 = 2 prorated units; the range is picked by the 3 full
        # units (3-∞ at 6, flat 5): 2 × 6 + 5 = 17 (by the 2 prorated units it would be 25)
        ("2026-09", D("2.00000"), D("17.00")),
        ("2026-10", D("3.00000"), D("23.00")),  # 3 × 6 + 5
    ]


def test_a_unique_count_seat_plan_counts_each_ids_active_days(billed):
    assert charge_lines(billed, "s_uc") == [
        # ann from Sep 20: 11/30 = 0.366666… → 0.36667 × 31 = 11.36677 → 11.37
        ("2026-09", D("0.36667"), D("11.37")),
        # ann until her removal on Oct 10, that day included (10 days); bob from Oct 25 (7 days):
        # 17/31 = 0.548387… → 0.54839 × 31 = 17.00009 → 17.00
        ("2026-10", D("0.54839"), D("17.00")),
    ]


def test_the_line_shows_the_prorated_units_and_the_full_units(billed, tmp_path):
    """billing.invoice_lines.full_units (decision 25): a prorated line's units before proration, the
    metered units at the period's end (Lago's full_units_number); the subscription line's 1 of 1."""
    with duckdb.connect(str(billed), read_only=True) as con:
        got = con.execute("""select i.external_subscription_id, strftime(i.period_start, '%Y-%m'), l.fee_type,
                                    l.units, l.full_units
                             from billing.invoice_lines as l
                             inner join billing.invoices as i on l.invoice_id = i.invoice_id
                             where i.external_subscription_id in ('s_std', 's_grad', 's_vol', 's_uc', 's_zero')
                             order by 1, 2, 3""").fetchall()
    assert got == [
        # 1 seat held at September's end; none at October's (removed on the 22nd)
        ("s_grad", "2026-09", "charge", D("1.50000"), D("2")),
        ("s_grad", "2026-09", "subscription", D("1"), D("1")),
        ("s_grad", "2026-10", "charge", D("2.00000"), D("2")),
        ("s_grad", "2026-10", "subscription", D("1"), D("1")),
        ("s_std", "2026-09", "charge", D("0.53334"), D("1")),
        ("s_std", "2026-09", "subscription", D("1"), D("1")),
        ("s_std", "2026-10", "charge", D("0.67742"), D("0")),
        ("s_std", "2026-10", "subscription", D("1"), D("1")),
        # ann added Sep 20: 1 id at September's end; October: ann removed, bob added: 1
        ("s_uc", "2026-09", "charge", D("0.36667"), D("1")),
        ("s_uc", "2026-09", "subscription", D("1"), D("1")),
        ("s_uc", "2026-10", "charge", D("0.54839"), D("1")),
        ("s_uc", "2026-10", "subscription", D("1"), D("1")),
        # 3 seats from Sep 11: 2 prorated units of 3 (the range is picked by the 3)
        ("s_vol", "2026-09", "charge", D("2.00000"), D("3")),
        ("s_vol", "2026-09", "subscription", D("1"), D("1")),
        ("s_vol", "2026-10", "charge", D("3.00000"), D("3")),
        ("s_vol", "2026-10", "subscription", D("1"), D("1")),
        ("s_zero", "2026-09", "charge", D("0"), D("0")),
        ("s_zero", "2026-09", "subscription", D("1"), D("1")),
        ("s_zero", "2026-10", "charge", D("0"), D("0")),
        ("s_zero", "2026-10", "subscription", D("1"), D("1")),
    ]
    # the invoice page shows "prorated units of full units" where they differ, the units alone otherwise
    from orchestration.invoice_pages import render_pages
    with duckdb.connect(str(billed), read_only=True) as con:
        render_pages(con, tmp_path)
    page = (tmp_path / "pages" / "invoices" / "inv_s_std_20260901.html").read_text()
    assert '<td class="num">0.53334 <span class="full-units">of 1 (prorated)</span></td>' in page
    page = (tmp_path / "pages" / "invoices" / "inv_s_vol_20261001.html").read_text()
    assert '<td class="num">3</td>' in page and 'class="full-units"' not in page


def test_a_warehouse_finalized_before_full_units_upgrades_in_place(billed, tmp_path):
    """A warehouse whose September was finalized by a version without full_units (simulated: the
    column dropped from finalized.invoice_lines, finalized.adjustment_lines and billing.invoice_lines).
    The new version's run reads the old frozen lines (decision 25): a frozen line that cannot be
    prorated shows its units as full units; a frozen line of a prorated charge shows null, its full
    units were never recorded. The next `tally finalize` adds the column to the frozen tables
    (null in the rows frozen before) and freezes October's lines with their full units."""
    root = billed.parent
    warehouse = shutil.copy(billed, tmp_path / "w.duckdb")
    tally("finalize", "--period", "2026-09", "--warehouse", str(warehouse))
    with duckdb.connect(str(warehouse)) as con:
        for table in ("finalized.invoice_lines", "finalized.adjustment_lines", "billing.invoice_lines"):
            con.execute(f"alter table {table} drop column full_units")
    tally("run", "--catalog", str(root / "catalog"), "--landing", str(root / "landing"), "--warehouse",
          str(warehouse), "--from", "2026-09", "--to", "2026-10", "--publish", str(tmp_path / "published"),
          "--no-pages")
    query = """select l.invoice_id, l.fee_type, l.units, l.full_units from billing.invoice_lines as l
               where l.invoice_id like 'inv_s_std_%' or l.invoice_id like 'inv_s_vol_%' order by 1, 2"""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert con.execute(query).fetchall() == [
            ("inv_s_std_20260901", "charge", D("0.53334"), None),      # frozen, prorated: not recorded
            ("inv_s_std_20260901", "subscription", D("1"), D("1")),    # frozen: its units
            ("inv_s_std_20261001", "charge", D("0.67742"), D("0")),    # rated by this version
            ("inv_s_std_20261001", "subscription", D("1"), D("1")),
            ("inv_s_vol_20260901", "charge", D("2.00000"), None),
            ("inv_s_vol_20260901", "subscription", D("1"), D("1")),
            ("inv_s_vol_20261001", "charge", D("3.00000"), D("3")),
            ("inv_s_vol_20261001", "subscription", D("1"), D("1")),
        ]
    tally("finalize", "--period", "2026-10", "--warehouse", str(warehouse))
    with duckdb.connect(str(warehouse), read_only=True) as con:
        frozen = con.execute("""select invoice_id, fee_type, full_units from finalized.invoice_lines
                                where invoice_id like 'inv_s_std_%' order by 1, 2""").fetchall()
        adjustment_columns = [c for (c,) in con.execute(
            "select column_name from information_schema.columns where table_schema = 'finalized' "
            "and table_name = 'adjustment_lines' order by ordinal_position").fetchall()]
    assert frozen == [("inv_s_std_20260901", "charge", None), ("inv_s_std_20260901", "subscription", None),
                      ("inv_s_std_20261001", "charge", D("0")), ("inv_s_std_20261001", "subscription", D("1"))]
    assert adjustment_columns[-1] == "full_units"
