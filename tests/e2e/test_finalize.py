"""Finalized invoices never move (SPEC §6): finalize October 2026 of the small fixture, then
land a late event and cut a price, re-rate October, and check the finalized invoices are
byte-identical while the differences come out as adjustments, exactly:

- late event: 1,000 more "large" tokens for sub_a at 0.003 → line c_tokens:1 goes from
  835 units (2.505 → 2.51) to 1,835 units (5.505 → 5.51): +3.00, one more event, so an
  adjustment invoice inv_sub_a_20261001_adj of 3.00 with reason late_events;
- catalog change: storage 101–∞ volume price 0.40 → 0.30 for sub_b: 120.5 GB × 0.30 =
  36.15 instead of 48.20, so inv_sub_b_20261016 (88.20) was over-billed by 12.05: a credit
  note cn_inv_sub_b_20261016_adj of 12.05 (no taxes in this catalog), reason catalog_change;
- sub_c's JPY invoice and sub_b's opening invoice do not change: no adjustment.
"""
from __future__ import annotations

import json
import shutil
from datetime import date
from decimal import Decimal as D

import duckdb
import pytest

from tests.helpers import rows, table_dump, tally

ORIGINALS = ("inv_sub_a_20261001", "inv_sub_b_20261016_open", "inv_sub_b_20261016", "inv_sub_c_20261001")
FROZEN_SQL = {
    "invoices": "select * from billing.invoices where invoice_type <> 'adjustment' order by all",
    "invoice_lines": "select * from billing.invoice_lines where line_id not like '%:adj' order by all",
    "fee_tiers": "select * from billing.fee_tiers order by all",
}


def frozen_state(warehouse):
    return {name: rows(warehouse, sql) for name, sql in FROZEN_SQL.items()}


@pytest.fixture(scope="module")
def world(tmp_path_factory, small_billed):
    base = tmp_path_factory.mktemp("finalize")
    catalog = shutil.copytree(small_billed["catalog"], base / "catalog")
    landing = shutil.copytree(small_billed["landing"], base / "landing")
    warehouse, published = base / "w.duckdb", base / "published"
    args = ("--catalog", str(catalog), "--landing", str(landing), "--warehouse", str(warehouse),
            "--publish", str(published))
    # October as `tally run ... --period 2026-10` bills it from these inputs: billed once per session
    # (small_billed), copied here (the files land again from this folder by checksum: not twice)
    shutil.copy(small_billed["warehouse"], warehouse)
    shutil.copytree(small_billed["published"], published)
    shutil.copy(warehouse, base / "before_finalize.duckdb")
    # with DAGSTER_HOME set (as `make dagster` and `make demo` set it) the close is recorded where the UI reads
    home = base / "dagster_home"
    home.mkdir()
    finalize = tally("finalize", "--period", "2026-10", "--warehouse", str(warehouse), "--publish", str(published),
                     env={"DAGSTER_HOME": str(home)})
    after_finalize = frozen_state(warehouse)
    october_csv = (published / "2026-10" / "invoices.csv").read_bytes()

    # a late event and a price cut, then October is re-rated
    (landing / "d_late.jsonl").write_text(json.dumps({
        "transaction_id": "tok_late", "external_subscription_id": "sub_a", "code": "tokens",
        "timestamp": "2026-10-10T08:00:00Z", "properties": {"tokens": 1000, "model": "large"}}) + "\n")
    charges = catalog / "charges.csv"
    text = charges.read_text()
    assert text.count('""per_unit_amount"": ""0.4""') == 1
    charges.write_text(text.replace('""per_unit_amount"": ""0.4""', '""per_unit_amount"": ""0.3""'))
    rerun = tally("run", *args, "--period", "2026-10")
    return {"base": base, "warehouse": warehouse, "published": published, "finalize": finalize,
            "after_finalize": after_finalize, "october_csv": october_csv, "rerun": rerun, "args": args,
            "dagster_home": home}


def test_finalize_marks_the_month_and_freezes_a_copy(world):
    assert "2026-10 finalized: 4 invoices" in " ".join(world["finalize"].stdout.split())
    from dagster import AssetKey, DagsterInstance
    with DagsterInstance.from_config(str(world["dagster_home"])) as instance:
        assert instance.get_materialized_partitions(AssetKey(["billing", "finalized"])) == {"2026-10"}
    invoices = world["after_finalize"]["invoices"]
    assert sorted(r[0] for r in invoices) == sorted(ORIGINALS)
    assert {r[17] for r in invoices} == {"finalized"}
    assert rows(world["warehouse"], "select billing_month from finalized.periods") == [(date(2026, 10, 1),)]
    assert "finalized" in world["october_csv"].decode()


def test_finalized_invoices_are_byte_identical_after_rerating(world):
    assert frozen_state(world["warehouse"]) == world["after_finalize"]
    # the published October file still shows the finalized amounts (88.20, not 76.15)
    csv = (world["published"] / "2026-10" / "invoices.csv").read_text()
    assert "inv_sub_b_20261016,cus_b" in csv and "88.2" in csv


def test_under_billing_becomes_an_adjustment_invoice(world):
    adjustments = rows(world["warehouse"], """
        select invoice_id, external_customer_id, invoice_type, period_start, period_end, currency, fees_amount,
               sub_total_excluding_taxes, taxes_amount, sub_total_including_taxes, total_amount, status,
               adjusts_invoice_id, adjustment_reason
        from billing.invoices where invoice_type = 'adjustment'""")
    assert adjustments == [
        ("inv_sub_a_20261001_adj", "cus_a", "adjustment", date(2026, 10, 1), date(2026, 10, 31), "USD", D("3.00"),
         D("3.00"), D("0"), D("3.00"), D("3.00"), "draft", "inv_sub_a_20261001", "late_events")]
    lines = rows(world["warehouse"], """
        select invoice_id, line_id, fee_type, units, events_count, amount from billing.invoice_lines
        where invoice_id = 'inv_sub_a_20261001_adj'""")
    assert lines == [("inv_sub_a_20261001_adj", "inv_sub_a_20261001:c_tokens:1:adj", "charge", D(1000), 1, D("3.00"))]
    # full_units (decision 25): the difference of the full units, here the units' own (not prorated)
    assert rows(world["warehouse"], "select full_units from billing.invoice_lines "
                                    "where invoice_id = 'inv_sub_a_20261001_adj'") == [(D(1000),)]


def test_over_billing_becomes_a_credit_note(world):
    notes = rows(world["warehouse"], """
        select credit_note_id, invoice_id, reason, amount, taxes_amount, total_amount, currency
        from billing.credit_notes""")
    assert notes == [("cn_inv_sub_b_20261016_adj", "inv_sub_b_20261016", "catalog_change", D("12.05"), D("0"),
                      D("12.05"), "EUR")]


def test_rerating_is_what_a_fresh_unfinalized_run_bills(world):
    # the adjustment closes the gap to what October costs now: 62.77 + 3.00 = 65.77 and
    # 88.20 - 12.05 = 76.15, which is what the re-rated (unpublished) invoices say
    rated = dict(rows(world["warehouse"], "select invoice_id, total_amount from intermediate.int_invoices_rated "
                                          "where period_end between '2026-10-01' and '2026-10-31'"))
    assert rated["inv_sub_a_20261001"] == D("65.77")
    assert rated["inv_sub_b_20261016"] == D("76.15")
    assert rated["inv_sub_c_20261001"] == D("724")


def published_files(folder):
    return {p.relative_to(folder): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file() and "data_docs" not in p.parts}


def test_second_finalize_changes_nothing(world):
    # it writes the month's files again (test_recovery: a finalize killed after its commit wrote
    # none): the same bytes as the run that published them last
    before, files = table_dump(world["warehouse"]), published_files(world["published"])
    again = tally("finalize", "--period", "2026-10", "--warehouse", str(world["warehouse"]),
                  "--publish", str(world["published"]))
    assert "already finalized" in again.stdout
    assert table_dump(world["warehouse"]) == before
    assert published_files(world["published"]) == files


def test_finalize_refuses_a_month_without_invoices(world):
    proc = tally("finalize", "--period", "2026-07", "--warehouse", str(world["warehouse"]), check=False)
    assert proc.returncode == 1
    assert "no invoices are published for 2026-07" in " ".join(proc.stdout.split())


def test_finalize_refuses_a_month_in_its_grace_period_unless_forced(world):
    # a grace period no date reaches: November is refused and stays open; --force skips the
    # grace check (and July then fails on its own: nothing is published for it)
    before = table_dump(world["warehouse"])
    env = {"TALLY_GRACE_DAYS": "100000"}
    proc = tally("finalize", "--period", "2026-11", "--warehouse", str(world["warehouse"]), check=False, env=env)
    assert proc.returncode == 1
    message = " ".join(proc.stdout.split())
    assert "2026-11 is still open: its grace period (100000 days after the month, TALLY_GRACE_DAYS) ends on 2300-" \
        in message
    assert table_dump(world["warehouse"]) == before
    forced = tally("finalize", "--period", "2026-07", "--force", "--warehouse", str(world["warehouse"]),
                   check=False, env=env)
    assert "no invoices are published for 2026-07" in " ".join(forced.stdout.split())


def test_dagster_finalize_job_does_what_the_cli_does(world, monkeypatch):
    # the finance path: the partitioned `finalize_month` job, on the warehouse as it was before
    warehouse = world["base"] / "before_finalize.duckdb"
    monkeypatch.setenv("TALLY_WAREHOUSE", str(warehouse))
    monkeypatch.setenv("TALLY_PUBLISH", str(world["base"] / "published_dagster"))
    from orchestration.definitions import defs
    result = defs.resolve_job_def("finalize_month").execute_in_process(partition_key="2026-10")
    assert result.success
    with duckdb.connect(str(warehouse), read_only=True) as con:
        statuses = con.execute("select invoice_id, status from billing.invoices order by 1").fetchall()
        totals = con.execute("select currency, sum(total_amount) from billing.invoices group by 1").fetchall()
    assert statuses == [(i, "finalized") for i in sorted(ORIGINALS)]
    # October shows as closed on billing/finalized, with its totals as money
    [closed] = [e.materialization for e in result.get_asset_materialization_events()
                if e.asset_key.to_user_string() == "billing/finalized"]
    assert closed.partition == "2026-10"
    symbol = {"USD": "$", "EUR": "€", "JPY": "¥"}
    meta = {k: v.value for k, v in closed.metadata.items() if k != "closed"}
    assert meta == {"invoices": 4, "finalized": True,
                    **{f"total {c}": f"{symbol[c]}{a:,.{0 if c == 'JPY' else 2}f}" for c, a in totals}}


def test_running_an_earlier_month_leaves_later_finalized_months_alone(world):
    # September is billed after October was finalized and re-rated: that run rates nothing of
    # October, so it must neither see October's invoices as vanished (a full credit note for
    # each, as a review found) nor drop October's adjustments
    before = {name: rows(world["warehouse"], f"select * from billing.{name} order by all")
              for name in ("invoices", "invoice_lines", "fee_tiers", "credit_notes")}
    tally("run", *world["args"], "--period", "2026-09")
    after = {name: rows(world["warehouse"], f"select * from billing.{name} order by all")
             for name in ("invoices", "invoice_lines", "fee_tiers", "credit_notes")}
    september = [r for r in after["invoices"] if r[5] < date(2026, 10, 1)]
    assert [r[0] for r in september] == ["inv_sub_c_20260901"]
    assert {k: [r for r in v if r not in september and not r[0].startswith("inv_sub_c_20260901")]
            for k, v in after.items()} == before
    assert [r[0] for r in after["credit_notes"]] == ["cn_inv_sub_b_20261016_adj"]


def test_a_later_close_freezes_the_adjustments_and_a_new_difference_is_a_new_round(world, tmp_path):
    """Finalized adjustments are immutable like invoices: closing November freezes October's
    draft adjustments (sub_a's 3.00 adjustment invoice, sub_b's 12.05 credit note). Another late
    October event (1,000 more "large" tokens: c_tokens:1 from 1,835 units, 5.505 → 5.51, to
    2,835 units, 8.505 → 8.51) then comes out as a second round, `inv_sub_a_20261001_adj2` of
    3.00 dated November's close, against the frozen invoice plus the frozen first round; the
    first round is published byte for byte as it was frozen."""
    base = tmp_path
    warehouse = shutil.copy(world["warehouse"], base / "w.duckdb")
    landing = shutil.copytree(world["base"] / "landing", base / "landing")
    catalog = shutil.copytree(world["base"] / "catalog", base / "catalog")
    published = str(base / "published")
    args = ("--catalog", str(catalog), "--landing", str(landing), "--warehouse", str(warehouse), "--no-pages",
            "--publish", published)
    tally("run", *args, "--from", "2026-10", "--to", "2026-11")
    tally("finalize", "--period", "2026-11", "--warehouse", str(warehouse), "--publish", published)
    adjustments = ("select invoice_id, invoice_type, issuing_date, sub_total_including_taxes, status, "
                   "adjusts_invoice_id, adjustment_reason from billing.invoices where invoice_type = 'adjustment' "
                   "order by all")
    adjustment_lines = "select * from billing.invoice_lines where invoice_id like '%_adj%' order by all"
    notes = "select * from billing.credit_notes order by all"
    closes = dict(rows(warehouse, "select billing_month, finalized_on from finalized.periods"))
    october_close, closed_on = closes[date(2026, 10, 1)], closes[date(2026, 11, 1)]
    frozen = {"invoices": rows(warehouse, adjustments), "lines": rows(warehouse, adjustment_lines),
              "notes": rows(warehouse, notes)}
    assert frozen["invoices"] == [("inv_sub_a_20261001_adj", "adjustment", october_close, D("3.00"), "finalized",
                                   "inv_sub_a_20261001", "late_events")]

    (landing / "e_later.jsonl").write_text(json.dumps({
        "transaction_id": "tok_later", "external_subscription_id": "sub_a", "code": "tokens",
        "timestamp": "2026-10-20T08:00:00Z", "properties": {"tokens": 1000, "model": "large"}}) + "\n")
    tally("run", *args, "--from", "2026-10", "--to", "2026-11")

    assert rows(warehouse, adjustments) == frozen["invoices"] + [
        ("inv_sub_a_20261001_adj2", "adjustment", closed_on, D("3.00"), "draft", "inv_sub_a_20261001",
         "late_events")]
    second = [r for r in rows(warehouse, adjustment_lines) if r[0] == "inv_sub_a_20261001_adj2"]
    assert [(r[1], r[5], r[6], r[8]) for r in second] == [
        ("inv_sub_a_20261001:c_tokens:1:adj2", D("1000"), 1, D("3.00"))]
    assert [r for r in rows(warehouse, adjustment_lines) if r[0] != "inv_sub_a_20261001_adj2"] == frozen["lines"]
    # sub_b's credit note stays as frozen and no new one comes: its invoice did not change again
    assert rows(warehouse, notes) == frozen["notes"]
    assert [r[0] for r in frozen["notes"]] == ["cn_inv_sub_b_20261016_adj"]
    # the events behind each round (billing.invoice_line_events, issue 15): the frozen first round
    # keeps tok_late as its late event; the second round adds tok_later, landed after it
    assert rows(warehouse, "select line_id, transaction_id, arrived_late from billing.invoice_line_events "
                           "where line_id like 'inv_sub_a_20261001:c_tokens:1:adj%' order by all") == [
        ("inv_sub_a_20261001:c_tokens:1:adj", "tok_2", False),
        ("inv_sub_a_20261001:c_tokens:1:adj", "tok_late", True),
        ("inv_sub_a_20261001:c_tokens:1:adj2", "tok_2", False),
        ("inv_sub_a_20261001:c_tokens:1:adj2", "tok_late", False),
        ("inv_sub_a_20261001:c_tokens:1:adj2", "tok_later", True)]
    from orchestration.explain import explain_text
    # 2,835 × 0.003 = 8.505 → 8.51, less 2.51 (frozen) and 3.00 (first round) = 3.00
    assert ("  difference: rated now 8.505 → 8.51 − billed before 5.51 = 3.00 (1 event landed late)"
            in explain_text(warehouse, "inv_sub_a_20261001:c_tokens:1:adj2").splitlines())


def test_explain_adjustment_line(world):
    """`tally explain` on an adjustment line (issue 15 audit trail): c_tokens:1 (large tokens at
    0.003) was frozen with tok_2's 835 tokens = 2.505 → 2.51; tok_late (1,000, d_late.jsonl)
    landed after the close: rated now 1,835 × 0.003 = 5.505 → 5.51, difference 5.51 − 2.51 = 3.00."""
    from orchestration.explain import explain_text
    out = explain_text(world["warehouse"], "inv_sub_a_20261001:c_tokens:1:adj").splitlines()
    assert "Events: 2" in out
    assert [line for line in out if "tok_" in line] == [
        "  2026-10-09 10:00:00  a_events.jsonl            2  tok_2                835",
        "  2026-10-10 08:00:00  d_late.jsonl              1  tok_late             1000 late",
    ]
    assert out[out.index("Pricing") + 1:out.index("Pricing") + 8] == [
        ("  adjusts line inv_sub_a_20261001:c_tokens:1 of invoice inv_sub_a_20261001 (late_events); events "
         "marked late landed after it was frozen"),
        "    billed on inv_sub_a_20261001: 835 units, 1 events, 2.51",
        "    rated now: 1835 units, 2 events",
        "  standard: 1835 units × 0.003 = 5.505",
        "  difference: rated now 5.505 → 5.51 − billed before 2.51 = 3.00 (1 event landed late)",
        "  unrounded amount  3",
        "  rounded amount    3.00 (USD, 2 decimals, half away from zero)",
    ]
    assert "  total                                 3.00" in out
    # the frozen line keeps the event it was billed for; the late one is only behind the adjustment
    frozen = explain_text(world["warehouse"], "inv_sub_a_20261001:c_tokens:1").splitlines()
    assert "Events: 1" in frozen and "  rounded amount    2.51 (USD, 2 decimals, half away from zero)" in frozen
    assert rows(world["warehouse"], "select line_id, transaction_id, arrived_late from billing.invoice_line_events "
                                    "where line_id like 'inv_sub_a_20261001:c_tokens:1%' order by all") == [
        ("inv_sub_a_20261001:c_tokens:1", "tok_2", False),
        ("inv_sub_a_20261001:c_tokens:1:adj", "tok_2", False),
        ("inv_sub_a_20261001:c_tokens:1:adj", "tok_late", True)]
