"""`tally simulate` over tests/fixtures/small, billed once for 2026-09..2026-11 by `tally run`,
then 2026-09 finalized. Every figure below is worked out by hand from the fixture's events and
catalog (the rules: /work/shared/reference/lago-semantics.md, docs/decisions.md).

What was published (the current side of every diff), by hand:
- sub_a (cus_a, basic_usd, USD, in arrears, from 2026-10-01, UTC; no API calls land in this
  landing, only bad ones):
  - inv_sub_a_20261001 = 49.00 plan + tokens default bucket (tok_1 small 1,000 + tok_3 unlabelled
    250; the CSV tok_1 is an exact duplicate, the CSV tok_3 a conflicting one) 1,250 × 0.001 = 1.25
    + tokens "large" 835 × 0.003 = 2.505 → 2.51 + GPUs weighted sum (0 × 10 d + 2 × 10 d + 1 × 11 d)
    / 31 d = 1 × 10.00 = 10.00 → 62.76
  - inv_sub_a_20261101 = 49.00 (no usage)
- sub_b (cus_b, adv_eur, EUR, in advance, from 2026-10-16, Paris):
  - inv_sub_b_20261016_open = 30.00 × 16/31 = 15.4838… → 15.48
  - inv_sub_b_20261016 = 30.00 (November in advance) + seats (u1, u3, u5, u4 active, u2 removed)
    4 − 1 free = 3 → 2 packages × 5 = 10.00 + storage max 120.5 GB in the 101–∞ volume range
    × 0.4 = 48.20 → 88.20
  - inv_sub_b_20261101 = 30.00 (December) + seats still 4 (recurring) 10.00 + storage 0 GB: the
    first volume range's flat 1.00 → 41.00
- sub_c (cus_c, jp_jpy, JPY, Tokyo, 2026-09-01 to 2026-10-20):
  - inv_sub_c_20260901 = 1000 (no usage in September), finalized below
  - inv_sub_c_20261001 = 1000 × 20/31 = 645.16 → 645 + 1.5 % of (6,001 − 1,000 free) tokens
    + 2 × 2 per paid event = 75.015 + 4 = 79.015 → 79 → 724
Totals: USD 62.76 + 49.00 = 111.76; EUR 15.48 + 88.20 + 41.00 = 144.68; JPY 1000 + 724 = 1,724.

Five simulations (each a candidate folder written here), three refused candidates, the report
in headless Chromium, and a hash of everything a simulation must never write.
"""
from __future__ import annotations

import hashlib
import re
import shutil
from datetime import date
from decimal import Decimal as D
from pathlib import Path

import duckdb
import pytest

from tests.e2e.test_invoice_pages import assert_plausible_png, browse, chromium  # noqa: F401 (a fixture)
from tests.helpers import copy_landing, rows, tally

MONTHS = ("--from", "2026-09", "--to", "2026-11")
SEP, OCT, NOV = date(2026, 9, 1), date(2026, 10, 1), date(2026, 11, 1)
PROTECTED = ("billing", "finalized", "catalog", "raw")

PUBLISHED = {
    "inv_sub_a_20261001": D("62.76"), "inv_sub_a_20261101": D("49.00"),
    "inv_sub_b_20261016_open": D("15.48"), "inv_sub_b_20261016": D("88.20"), "inv_sub_b_20261101": D("41.00"),
    "inv_sub_c_20260901": D("1000"), "inv_sub_c_20261001": D("724"),
}

CHARGES_HEADER = "id,plan_code,billable_metric_code,charge_model,properties,pay_in_advance,min_amount," \
                 "invoice_display_name,filters\n"


# --- the world: billed once, September finalized -----------------------------------------------

def protected_state(warehouse: Path, published: Path) -> dict:
    """A hash of every table (columns and rows in order) of billing, finalized, catalog and raw,
    the list of their tables, and a hash of every published file."""
    tables: dict[str, object] = {}
    with duckdb.connect(str(warehouse), read_only=True) as con:
        for schema in PROTECTED:
            names = [t for (t,) in con.execute(
                "select table_name from information_schema.tables where table_schema = ? "
                "and table_catalog = current_database() order by 1", [schema]).fetchall()]
            tables[schema] = names
            for name in names:
                columns = con.execute(
                    "select column_name, data_type from information_schema.columns where table_schema = ? "
                    "and table_name = ? and table_catalog = current_database() order by ordinal_position",
                    [schema, name]).fetchall()
                data = con.execute(f'select * from "{schema}"."{name}" order by all').fetchall()
                tables[f"{schema}.{name}"] = hashlib.md5(repr((columns, data)).encode()).hexdigest()
    files = {str(p.relative_to(published)): hashlib.md5(p.read_bytes()).hexdigest()
             for p in sorted(published.rglob("*")) if p.is_file()}
    return {"tables": tables, "files": files}


@pytest.fixture(scope="module")
def world(tmp_path_factory, small_catalog) -> dict:
    """The module's one `tally run` (2026-09..2026-11) and `tally finalize --period 2026-09`."""
    base = tmp_path_factory.mktemp("simulate")
    landing = copy_landing("small", base / "landing")
    warehouse, published = base / "w.duckdb", base / "published"
    tally("run", "--catalog", str(small_catalog), "--landing", str(landing), "--warehouse", str(warehouse),
          "--publish", str(published), *MONTHS)
    # --force: the grace period (TALLY_GRACE_DAYS) must not depend on the clock or the shell
    finalize = tally("finalize", "--period", "2026-09", "--warehouse", str(warehouse), "--publish", str(published),
                     "--force")
    return {"base": base, "catalog": small_catalog, "warehouse": warehouse, "published": published,
            "finalize": finalize, "before": protected_state(warehouse, published)}


def simulate(world: dict, name: str, files: dict[str, str] | None = None, full_copy: bool = False,
             check: bool = True) -> dict:
    """`tally simulate` of the candidate folder `name` (the current catalog copied, or `files`),
    and the simulation tables read right after it (the next simulation replaces them)."""
    candidate = world["base"] / name
    if full_copy:
        shutil.copytree(world["catalog"], candidate)
    else:
        candidate.mkdir()
        for file, text in (files or {}).items():
            (candidate / file).write_text(text)
    report = world["base"] / f"{name}_report"
    proc = tally("simulate", "--candidate", str(candidate), "--catalog", str(world["catalog"]),
                 "--warehouse", str(world["warehouse"]), *MONTHS, "--report", str(report),
                 "--publish", str(world["published"]), check=check)
    if proc.returncode != 0:
        return {"proc": proc, "report": report}
    with duckdb.connect(str(world["warehouse"]), read_only=True) as con:
        def dicts(sql: str) -> list[dict]:
            cur = con.execute(sql)
            names = [d[0] for d in cur.description]
            return [dict(zip(names, r)) for r in cur.fetchall()]
        invoices = dicts("select * from simulation.invoice_diff")
        lines = dicts("select * from simulation.line_diff")
        summary = dicts("select * from simulation.summary")
        tiers = con.execute("select line_id, tier_index, units, amount from simulation_marts.fct_fee_tiers "
                            "order by 1, 2").fetchall()
        candidate_ids = {i for (i,) in con.execute(
            "select invoice_id from simulation_marts.fct_invoices "
            "where period_end >= date '2026-09-01' and period_end < date '2026-12-01'").fetchall()}
    return {"proc": proc, "report": report, "invoices": invoices, "lines": lines, "summary": summary,
            "tiers": tiers, "candidate_ids": candidate_ids}


def by_invoice(sim: dict) -> dict[str, tuple]:
    """invoice_id -> (current, candidate, difference, change)."""
    return {r["invoice_id"]: (r["current_total_amount"], r["candidate_total_amount"], r["difference_amount"],
                              r["change"]) for r in sim["invoices"]}


def changed_lines(sim: dict) -> dict[str, tuple]:
    """line_id -> (current, candidate, difference) of the lines whose amount changed."""
    return {r["line_id"]: (r["current_amount"], r["candidate_amount"], r["difference_amount"])
            for r in sim["lines"] if r["difference_amount"] != 0}


def by_plan_month(sim: dict) -> dict[tuple, tuple]:
    """(plan, month, currency) -> (current revenue, candidate revenue, difference)."""
    return {(r["plan_code"], r["billing_month"], r["currency"]):
            (r["current_revenue"], r["candidate_revenue"], r["difference_amount"]) for r in sim["summary"]}


def squash(text: str) -> str:
    """No whitespace at all: rich wraps (and folds long paths) at the console width."""
    return "".join(text.split())


# --- the candidates ----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def unchanged(world):
    """A full copy of the current catalog."""
    return simulate(world, "unchanged", full_copy=True)


@pytest.fixture(scope="module")
def cut(world):
    """An overlay: GPUs 10.00 → 8.00 (cus_a), a seat package 5 → 6 (cus_b), sub_c removed (cus_c)."""
    return simulate(world, "cut", {
        "charges.csv": CHARGES_HEADER
        + 'c_gpus,basic_usd,gpus,standard,"{""amount"": ""8.00""}",false,,GPUs,\n'
        + 'c_seats,adv_eur,seats,package,"{""amount"": ""6"", ""package_size"": 2, ""free_units"": 1}",false,,Seats,\n',
        "subscriptions.csv": "external_id,external_customer_id,plan_code,started_at,ending_at,billing_time,_remove\n"
                             "sub_c,cus_c,jp_jpy,2026-09-01,2026-10-20,calendar,true\n",
    })


@pytest.fixture(scope="module")
def tiers(world):
    """c_tokens standard 0.001 → graduated 0–1,000 at 0.001, a middle tier 1,001–1,200 at 0.0008,
    then 0.0005; the "large" filter keeps its 0.003 as one open range."""
    ranges = ('{""graduated_ranges"": ['
              '{""from_value"": 0, ""to_value"": 1000, ""per_unit_amount"": ""0.001"", ""flat_amount"": ""0""}, '
              '{""from_value"": 1001, ""to_value"": 1200, ""per_unit_amount"": ""0.0008"", ""flat_amount"": ""0""}, '
              '{""from_value"": 1201, ""to_value"": null, ""per_unit_amount"": ""0.0005"", ""flat_amount"": ""0""}]}')
    large = ('[{""invoice_display_name"": ""Large model tokens"", ""values"": {""model"": [""large""]}, '
             '""properties"": {""graduated_ranges"": [{""from_value"": 0, ""to_value"": null, '
             '""per_unit_amount"": ""0.003"", ""flat_amount"": ""0""}]}}]')
    return simulate(world, "tiers", {
        "charges.csv": CHARGES_HEADER + f'c_tokens,basic_usd,tokens,graduated,"{ranges}",false,,Tokens,"{large}"\n'})


@pytest.fixture(scope="module")
def commitment(world):
    """Minimum commitments: basic_usd 70.00 USD, adv_eur 200.00 EUR, jp_jpy 2000 JPY a month."""
    return simulate(world, "commitment", {
        "plans.csv": "code,name,interval,amount,currency,pay_in_advance,trial_period,minimum_commitment\n"
                     "basic_usd,Basic,monthly,49.00,USD,false,0,70.00\n"
                     "adv_eur,Advance,monthly,30.00,EUR,true,0,200.00\n"
                     "jp_jpy,Japan,monthly,1000,JPY,false,0,2000\n"})


@pytest.fixture(scope="module")
def wallets(world):
    """cus_a and cus_b move to prepaid credits: cus_a buys 5,000 credits at 0.01 USD (50.00) and is
    granted 2,000 (20.00) on 2026-09-15; cus_b buys 100 credits at 1.00 EUR on 2026-10-01."""
    return simulate(world, "wallets", {
        "wallets.csv": "id,external_customer_id,currency,rate_amount,priority,expiration_at\n"
                       "w_a,cus_a,USD,0.01,,\n"
                       "w_b,cus_b,EUR,1,,\n",
        "wallet_transactions.csv": "wallet_id,credits,kind,created_at\n"
                                   "w_a,5000,purchased,2026-09-15T10:00:00Z\n"   # file line 2
                                   "w_a,2000,granted,2026-09-15T10:00:00Z\n"     # line 3: granted, no invoice
                                   "w_b,100,purchased,2026-10-01T00:00:00Z\n"})  # line 4


# --- the billed world --------------------------------------------------------------------------

def test_billed_world_is_the_hand_worked_one(world):
    assert dict(rows(world["warehouse"], "select invoice_id, total_amount from billing.invoices")) == PUBLISHED
    assert "2026-09 finalized: 1 invoices" in " ".join(world["finalize"].stdout.split())
    assert rows(world["warehouse"], "select invoice_id, status from billing.invoices where status = 'finalized'") \
        == [("inv_sub_c_20260901", "finalized")]
    assert rows(world["warehouse"], "select billing_month from finalized.periods") == [(SEP,)]
    assert world["before"]["tables"]["finalized"], "the finalized schema exists"


# --- 1. an unchanged candidate -----------------------------------------------------------------

def test_unchanged_candidate_changes_nothing(unchanged):
    # the same seven invoice ids on both sides (September's finalized one is rated afresh: the same 1000)
    assert {r["invoice_id"] for r in unchanged["invoices"]} == set(PUBLISHED) == unchanged["candidate_ids"]
    assert all(r["in_current"] and r["in_candidate"] for r in unchanged["invoices"])
    assert by_invoice(unchanged) == {i: (t, t, D(0), "unchanged") for i, t in PUBLISHED.items()}
    assert unchanged["lines"] and all(r["difference_amount"] == 0 and r["current_units"] == r["candidate_units"]
                                      for r in unchanged["lines"])
    # six plan-months (jp_jpy Sep and Oct, adv_eur and basic_usd Oct and Nov), one customer each, unchanged
    assert by_plan_month(unchanged) == {
        ("jp_jpy", SEP, "JPY"): (D("1000"), D("1000"), D(0)),
        ("adv_eur", OCT, "EUR"): (D("103.68"), D("103.68"), D(0)),   # 15.48 + 88.20
        ("basic_usd", OCT, "USD"): (D("62.76"), D("62.76"), D(0)),
        ("jp_jpy", OCT, "JPY"): (D("724"), D("724"), D(0)),
        ("adv_eur", NOV, "EUR"): (D("41.00"), D("41.00"), D(0)),
        ("basic_usd", NOV, "USD"): (D("49.00"), D("49.00"), D(0)),
    }
    assert all((r["customers_up"], r["customers_down"], r["customers_unchanged"]) == (0, 0, 1)
               for r in unchanged["summary"])
    out = unchanged["proc"].stdout
    assert "7 invoices compared, 0 changed." in out
    assert "  USD: now $111.76, candidate $111.76, difference $0.00" in out
    assert "No invoice changes." in out


# --- 2 and 6. a price cut, a price raise and a removed subscription ----------------------------

def test_price_cut_raise_and_removed_subscription(cut):
    assert by_invoice(cut) == {
        # GPUs: the same 1 GPU-month (see the module docstring) × 8.00 = 8.00 instead of 10.00: −2.00
        "inv_sub_a_20261001": (D("62.76"), D("60.76"), D("-2.00"), "down"),
        # November: no GPU event, gpus is not recurring → 0 units either way
        "inv_sub_a_20261101": (D("49.00"), D("49.00"), D(0), "unchanged"),
        # seats: 2 packages × 6 = 12.00 instead of 10.00: +2.00, in October and (recurring) November
        "inv_sub_b_20261016": (D("88.20"), D("90.20"), D("2.00"), "up"),
        "inv_sub_b_20261101": (D("41.00"), D("43.00"), D("2.00"), "up"),
        # the opening invoice holds only the prorated subscription fee
        "inv_sub_b_20261016_open": (D("15.48"), D("15.48"), D(0), "unchanged"),
        # sub_c removed: its invoices are gone, candidate 0 (September's is the finalized one)
        "inv_sub_c_20260901": (D("1000"), D(0), D("-1000"), "gone"),
        "inv_sub_c_20261001": (D("724"), D(0), D("-724"), "gone"),
    }
    gone = {r["invoice_id"]: (r["in_current"], r["in_candidate"], r["current_plan_code"], r["candidate_plan_code"])
            for r in cut["invoices"] if r["change"] == "gone"}
    assert gone == {"inv_sub_c_20260901": (True, False, "jp_jpy", None),
                    "inv_sub_c_20261001": (True, False, "jp_jpy", None)}
    assert not any(i.startswith("inv_sub_c") for i in cut["candidate_ids"])
    # only the GPU and seat lines change, besides the lines of sub_c's gone invoices
    assert changed_lines(cut) == {
        "inv_sub_a_20261001:c_gpus:0": (D("10.00"), D("8.00"), D("-2.00")),
        "inv_sub_b_20261016:c_seats:0": (D("10.00"), D("12.00"), D("2.00")),
        "inv_sub_b_20261101:c_seats:0": (D("10.00"), D("12.00"), D("2.00")),
        "inv_sub_c_20260901:subscription:20260901": (D("1000"), D(0), D("-1000")),
        "inv_sub_c_20261001:subscription:20261001": (D("645"), D(0), D("-645")),
        "inv_sub_c_20261001:c_jp_tokens:0": (D("79"), D(0), D("-79")),
    }
    units = {r["line_id"]: (r["current_units"], r["candidate_units"]) for r in cut["lines"]}
    assert units["inv_sub_a_20261001:c_gpus:0"] == (D(1), D(1))          # the price moved, not the units
    assert units["inv_sub_c_20261001:c_jp_tokens:0"] == (D(6001), None)  # gone: no candidate line
    assert by_plan_month(cut) == {
        ("jp_jpy", SEP, "JPY"): (D("1000"), D(0), D("-1000")),
        ("adv_eur", OCT, "EUR"): (D("103.68"), D("105.68"), D("2.00")),   # 15.48 + 90.20
        ("basic_usd", OCT, "USD"): (D("62.76"), D("60.76"), D("-2.00")),
        ("jp_jpy", OCT, "JPY"): (D("724"), D(0), D("-724")),
        ("adv_eur", NOV, "EUR"): (D("41.00"), D("43.00"), D("2.00")),
        ("basic_usd", NOV, "USD"): (D("49.00"), D("49.00"), D(0)),
    }
    oct_usd = next(r for r in cut["summary"] if (r["plan_code"], r["billing_month"]) == ("basic_usd", OCT))
    assert (oct_usd["customers_down"], oct_usd["largest_decrease_customer"], oct_usd["largest_decrease_amount"]) \
        == (1, "cus_a", D("-2.00"))
    # USD is the reporting currency (rate 1); the small catalog has no fx rates for EUR and JPY
    assert (oct_usd["fx_rate"], oct_usd["difference_amount_reporting"]) == (D(1), D("-2.00"))
    assert all(r["fx_rate"] is None for r in cut["summary"] if r["currency"] != "USD")


def test_printed_summary(cut):
    out = cut["proc"].stdout
    # 7 invoices; changed: inv_sub_a_20261001, both sub_b closing invoices, both sub_c invoices
    assert "7 invoices compared, 5 changed." in out
    # USD 111.76 − 2.00 = 109.76
    assert "  USD: now $111.76, candidate $109.76, difference -$2.00" in out.splitlines()
    # EUR 144.68 + 2 × 2.00 = 148.68; JPY 1,724 − 1,724 = 0
    assert "  EUR: now €144.68, candidate €148.68, difference +€4.00" in out.splitlines()
    assert "  JPY: now ¥1,724, candidate ¥0, difference -¥1,724" in out.splitlines()
    assert squash(f"report: {cut['report'] / 'simulation.html'}") in squash(out)


# --- 3. new graduated tiers --------------------------------------------------------------------

def test_new_graduated_tiers(tiers):
    # default bucket 1,250 tokens, non-adjacent ranges (1001 = 1000 + 1):
    #   0–1,000: 1,000 × 0.001 = 1.000; 1,001–1,200: 1,200 − 1,001 + 1 = 200 × 0.0008 = 0.160;
    #   1,201–∞: 1,250 − 1,201 + 1 = 50 × 0.0005 = 0.025 → 1.185 → 1.19 (half up) instead of 1.25: −0.06
    assert [t[1:] for t in tiers["tiers"] if t[0] == "inv_sub_a_20261001:c_tokens:0"] == [
        (1, D(1000), D("1.000")), (2, D(200), D("0.160")), (3, D(50), D("0.025"))]
    assert changed_lines(tiers) == {"inv_sub_a_20261001:c_tokens:0": (D("1.25"), D("1.19"), D("-0.06"))}
    # the "large" filter as one open range at 0.003: 835 × 0.003 = 2.505 → 2.51, as now
    line = next(r for r in tiers["lines"] if r["line_id"] == "inv_sub_a_20261001:c_tokens:1")
    assert (line["current_amount"], line["candidate_amount"]) == (D("2.51"), D("2.51"))
    # 62.76 − 0.06 = 62.70; November has no tokens: the first tier's flat (0) only, as now
    assert by_invoice(tiers) == {
        **{i: (t, t, D(0), "unchanged") for i, t in PUBLISHED.items()},
        "inv_sub_a_20261001": (D("62.76"), D("62.70"), D("-0.06"), "down"),
    }
    assert "  USD: now $111.76, candidate $111.70, difference -$0.06" in tiers["proc"].stdout.splitlines()


# --- 4. a minimum commitment -------------------------------------------------------------------

def test_minimum_commitment(commitment):
    # the shortfall of each plan period's pre-tax fees under the commitment prorated by the
    # period's days (half up to the minor unit) is a `commitment` line on the invoice closing it
    expected_commitment_lines = {
        # sub_a October, 31/31 days: 70.00 − 62.76 = 7.24
        "inv_sub_a_20261001:commitment": D("7.24"),
        # sub_a November: 70.00 − 49.00 = 21.00
        "inv_sub_a_20261101:commitment": D("21.00"),
        # sub_b 16–31 October: 200.00 × 16/31 = 103.2258… → 103.23; the period's fees are its
        # subscription fee 15.48 (on the opening invoice) + seats 10.00 + storage 48.20 = 73.68
        # (November's 30.00 in advance counts in November): 103.23 − 73.68 = 29.55
        "inv_sub_b_20261016:commitment": D("29.55"),
        # sub_b November: 30.00 + 10.00 + 1.00 = 41.00; 200.00 − 41.00 = 159.00
        "inv_sub_b_20261101:commitment": D("159.00"),
        # sub_c September (finalized now, rated afresh): 2000 − 1000 = 1000
        "inv_sub_c_20260901:commitment": D("1000"),
        # sub_c 1–20 October: 2000 × 20/31 = 1290.32… → 1290; fees 645 + 79 = 724: 1290 − 724 = 566
        "inv_sub_c_20261001:commitment": D("566"),
    }
    assert changed_lines(commitment) == {line: (D(0), fee, fee) for line, fee in expected_commitment_lines.items()}
    assert {r["line_id"]: (r["fee_type"], r["current_units"], r["candidate_units"]) for r in commitment["lines"]
            if r["line_id"].endswith(":commitment")} == {
        line: ("commitment", None, D(1)) for line in expected_commitment_lines}
    assert by_invoice(commitment) == {
        "inv_sub_a_20261001": (D("62.76"), D("70.00"), D("7.24"), "up"),
        "inv_sub_a_20261101": (D("49.00"), D("70.00"), D("21.00"), "up"),
        "inv_sub_b_20261016_open": (D("15.48"), D("15.48"), D(0), "unchanged"),
        "inv_sub_b_20261016": (D("88.20"), D("117.75"), D("29.55"), "up"),      # 88.20 + 29.55
        "inv_sub_b_20261101": (D("41.00"), D("200.00"), D("159.00"), "up"),     # 41.00 + 159.00
        "inv_sub_c_20260901": (D("1000"), D("2000"), D("1000"), "up"),
        "inv_sub_c_20261001": (D("724"), D("1290"), D("566"), "up"),
    }
    assert by_plan_month(commitment) == {
        ("jp_jpy", SEP, "JPY"): (D("1000"), D("2000"), D("1000")),
        ("adv_eur", OCT, "EUR"): (D("103.68"), D("133.23"), D("29.55")),   # 15.48 + 117.75
        ("basic_usd", OCT, "USD"): (D("62.76"), D("70.00"), D("7.24")),
        ("jp_jpy", OCT, "JPY"): (D("724"), D("1290"), D("566")),
        ("adv_eur", NOV, "EUR"): (D("41.00"), D("200.00"), D("159.00")),
        ("basic_usd", NOV, "USD"): (D("49.00"), D("70.00"), D("21.00")),
    }
    lines = commitment["proc"].stdout.splitlines()
    assert "  USD: now $111.76, candidate $140.00, difference +$28.24" in lines    # 7.24 + 21.00
    assert "  EUR: now €144.68, candidate €333.23, difference +€188.55" in lines   # 29.55 + 159.00
    assert "  JPY: now ¥1,724, candidate ¥3,290, difference +¥1,566" in lines      # 1000 + 566


# --- 5. prepaid credits ------------------------------------------------------------------------

def test_prepaid_credits(wallets):
    assert by_invoice(wallets) == {
        # the purchases are `credit` invoices, new: 5,000 × 0.01 = 50.00 USD (the 2,000 granted are
        # free: no invoice) and 100 × 1.00 = 100.00 EUR; ids 'inv_credit_' || wallet || '_' || CSV line
        "inv_credit_w_a_2": (D(0), D("50.00"), D("50.00"), "new"),
        "inv_credit_w_b_4": (D(0), D("100.00"), D("100.00"), "new"),
        # cus_a's wallet holds 50.00 + 20.00 = 70.00 before its first invoice (issued 2026-11-01):
        # October's 62.76 is paid whole (total 0.00), 70.00 − 62.76 = 7.24 left for November
        "inv_sub_a_20261001": (D("62.76"), D(0), D("-62.76"), "down"),
        # November (issued 2026-12-01): 49.00 − 7.24 = 41.76
        "inv_sub_a_20261101": (D("49.00"), D("41.76"), D("-7.24"), "down"),
        # cus_b's 100.00 (bought 2026-10-01) pays the opening invoice of 2026-10-16 whole (15.48),
        # then 100.00 − 15.48 = 84.52 of the 88.20 issued 2026-11-01: 3.68 left to pay
        "inv_sub_b_20261016_open": (D("15.48"), D(0), D("-15.48"), "down"),
        "inv_sub_b_20261016": (D("88.20"), D("3.68"), D("-84.52"), "down"),
        # nothing left for November
        "inv_sub_b_20261101": (D("41.00"), D("41.00"), D(0), "unchanged"),
        "inv_sub_c_20260901": (D("1000"), D("1000"), D(0), "unchanged"),
        "inv_sub_c_20261001": (D("724"), D("724"), D(0), "unchanged"),
    }
    credit = {r["invoice_id"]: (r["invoice_type"], r["billing_month"], r["currency"], r["external_customer_id"])
              for r in wallets["invoices"] if r["change"] == "new"}
    assert credit == {"inv_credit_w_a_2": ("credit", SEP, "USD", "cus_a"),    # created 2026-09-15 (UTC)
                      "inv_credit_w_b_4": ("credit", OCT, "EUR", "cus_b")}    # 2026-10-01 02:00 Paris
    # the fees do not move: credits pay the invoices, they are no line; the credit lines are new
    assert changed_lines(wallets) == {"inv_credit_w_a_2:credit": (D(0), D("50.00"), D("50.00")),
                                      "inv_credit_w_b_4:credit": (D(0), D("100.00"), D("100.00"))}
    # revenue leaves the purchases out (invoice_type 'credit')
    assert by_plan_month(wallets) == {
        ("jp_jpy", SEP, "JPY"): (D("1000"), D("1000"), D(0)),
        ("adv_eur", OCT, "EUR"): (D("103.68"), D("3.68"), D("-100.00")),   # 0 + 3.68
        ("basic_usd", OCT, "USD"): (D("62.76"), D(0), D("-62.76")),
        ("jp_jpy", OCT, "JPY"): (D("724"), D("724"), D(0)),
        ("adv_eur", NOV, "EUR"): (D("41.00"), D("41.00"), D(0)),
        ("basic_usd", NOV, "USD"): (D("49.00"), D("41.76"), D("-7.24")),
    }
    lines = wallets["proc"].stdout.splitlines()
    assert "7 invoices compared, 4 changed." in lines                              # credit invoices left out
    assert "  USD: now $111.76, candidate $41.76, difference -$70.00" in lines     # 0 + 41.76: the 70.00 used
    assert "  EUR: now €144.68, candidate €44.68, difference -€100.00" in lines    # 0 + 3.68 + 41.00
    assert "  prepaid credits bought (USD, not revenue): now $0.00 in 0 invoices, candidate $50.00 in 1" in lines
    assert "  prepaid credits bought (EUR, not revenue): now €0.00 in 0 invoices, candidate €100.00 in 1" in lines


# --- 8. refused candidates ---------------------------------------------------------------------

def test_refused_candidates_exit_1_naming_file_and_rule(world):
    before = protected_state(world["warehouse"], world["published"])
    unknown = simulate(world, "refused_unknown_file", {
        "charges.csv": CHARGES_HEADER + 'c_gpus,basic_usd,gpus,standard,"{""amount"": ""8.00""}",false,,GPUs,\n',
        "prices.csv": "code,amount\ngpus,8.00\n"}, check=False)
    bad_model = simulate(world, "refused_charge_model", {
        "charges.csv": CHARGES_HEADER + 'c_gpus,basic_usd,gpus,tiered,"{""amount"": ""8.00""}",false,,GPUs,\n'},
        check=False)
    bad_remove = simulate(world, "refused_remove", {
        "subscriptions.csv": "external_id,external_customer_id,plan_code,started_at,ending_at,billing_time,_remove\n"
                             "sub_zz,cus_c,jp_jpy,2026-09-01,2026-10-20,calendar,true\n"}, check=False)
    for refused in (unknown, bad_model, bad_remove):
        assert refused["proc"].returncode == 1, refused["proc"].stdout + refused["proc"].stderr
        assert "tally simulate failed:" in refused["proc"].stdout
        assert not (refused["report"] / "simulation.html").exists()
    assert squash("prices.csv is no catalog file (rule: a candidate holds only") in squash(unknown["proc"].stdout)
    out = squash(bad_model["proc"].stdout)
    assert squash("the candidate catalog:") in out and squash("charges.csv row") in out
    assert squash("charge_model 'tiered' is unknown (rule: one of ['dynamic', 'graduated',") in out
    assert squash("subscriptions.csv row 2: _remove names {'external_id': 'sub_zz'}, which the current "
                  "subscriptions.csv does not hold (rule: an overlay removes current rows only)") \
        in squash(bad_remove["proc"].stdout)
    assert protected_state(world["warehouse"], world["published"]) == before


# --- 9. the report in a browser ----------------------------------------------------------------

def report_rows(html: str, table: str, key: str) -> dict[str, dict[str, D]]:
    """data-<key> of each row of table #table -> {data-field: Decimal(data-value)}."""
    body = re.search(rf'<table id="{table}".*?</table>', html, re.DOTALL)
    assert body, f"no #{table}"
    out = {}
    for attrs, row in re.findall(r"<tr (data-[^>]*)>(.*?)</tr>", body.group(0), re.DOTALL):
        name = dict(re.findall(r'data-([\w-]+)="([^"]*)"', attrs))
        if key == "plan-month":
            ident = f"{name['plan']} {name['month']} {name['currency']}"
        else:
            ident = name[key]
        out[ident] = {f: D(v) for f, v in re.findall(r'data-field="(\w+)" data-value="([^"]+)"', row)}
    return out


def assert_cut_report(html: str) -> None:
    totals = report_rows(html, "totals", "currency")
    # no fx rate for EUR and JPY in the small catalog: no "all in USD" row
    assert totals == {
        "EUR": {"current_amount": D("144.68"), "candidate_amount": D("148.68"), "difference_amount": D("4.00"),
                "changed": D(2)},
        "JPY": {"current_amount": D("1724"), "candidate_amount": D(0), "difference_amount": D("-1724"),
                "changed": D(2)},
        "USD": {"current_amount": D("111.76"), "candidate_amount": D("109.76"), "difference_amount": D("-2.00"),
                "changed": D(1)},
    }
    increases, decreases = report_rows(html, "increases", "invoice"), report_rows(html, "decreases", "invoice")
    assert increases == {
        "inv_sub_b_20261016": {"current_total_amount": D("88.20"), "candidate_total_amount": D("90.20"),
                               "difference_amount": D("2.00")},
        "inv_sub_b_20261101": {"current_total_amount": D("41.00"), "candidate_total_amount": D("43.00"),
                               "difference_amount": D("2.00")},
    }
    assert decreases == {
        "inv_sub_c_20260901": {"current_total_amount": D("1000"), "candidate_total_amount": D(0),
                               "difference_amount": D("-1000")},
        "inv_sub_c_20261001": {"current_total_amount": D("724"), "candidate_total_amount": D(0),
                               "difference_amount": D("-724")},
        "inv_sub_a_20261001": {"current_total_amount": D("62.76"), "candidate_total_amount": D("60.76"),
                               "difference_amount": D("-2.00")},
    }
    assert {k: v["difference_amount"] for k, v in report_rows(html, "summary", "plan-month").items()} == {
        "jp_jpy 2026-09 JPY": D("-1000"), "adv_eur 2026-10 EUR": D("2.00"), "basic_usd 2026-10 USD": D("-2.00"),
        "jp_jpy 2026-10 JPY": D("-724"), "adv_eur 2026-11 EUR": D("2.00"), "basic_usd 2026-11 USD": D(0)}


def test_report_figures(cut, world):
    """The report as written (no browser needed): the same figures, and its links."""
    page = cut["report"] / "simulation.html"
    html = page.read_text()
    assert_cut_report(html)
    # a changed invoice links to its published page (now) and to the candidate's page beside the report
    row = re.search(r'<tr data-invoice="inv_sub_a_20261001".*?</tr>', html, re.DOTALL).group(0)
    hrefs = re.findall(r'href="([^"]+)"', row)
    assert len(hrefs) == 2
    assert (page.parent / hrefs[0]).resolve() == (world["published"] / "pages" / "invoices"
                                                  / "inv_sub_a_20261001.html").resolve()
    candidate = page.parent / hrefs[1]
    assert candidate.exists() and "60.76" in candidate.read_text()
    # a gone invoice has no candidate page
    row = re.search(r'<tr data-invoice="inv_sub_c_20261001".*?</tr>', html, re.DOTALL).group(0)
    assert "candidate: none" in row


def test_report_in_headless_chromium(chromium, cut, tmp_path):  # noqa: F811 (the imported fixture)
    png, dom = browse(chromium, cut["report"] / "simulation.html", tmp_path)
    assert (tmp_path / "page.png").exists()
    assert_plausible_png(png)
    assert_cut_report(dom)
    assert "$109.76" in dom and "€148.68" in dom


# --- 7. nothing a simulation must not write was written ----------------------------------------

def test_simulations_never_write_billing_finalized_catalog_raw_or_published(world, unchanged, cut, tiers,
                                                                            commitment, wallets):
    after = protected_state(world["warehouse"], world["published"])
    assert after["tables"] == world["before"]["tables"]
    assert after["files"] == world["before"]["files"]
    assert after["files"], "the published files are there"
    # the simulations wrote their own schemas
    schemas = {s for (s,) in rows(world["warehouse"], "select schema_name from information_schema.schemata")}
    assert {"simulation", "simulation_catalog", "simulation_marts"} <= schemas
