"""Usage alerts (orchestration/alerts.py, docs/decisions.md 26) on a hand-made warehouse: the
catalog's alerts, billing.current_usage and the invoices, each table with its exact columns (the
billing ones from the marts' contracts). Every figure is worked out by hand in a comment."""
from __future__ import annotations

import hashlib
import json
import uuid
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
import yaml

from orchestration import alerts
from orchestration.catalog import SCHEMAS
from orchestration.catalog.alerts import Alert, AlertThreshold
from orchestration.catalog_kit.tables import Catalog, write
from tests.helpers import REPO

CONTRACTS = REPO / "dbt_project" / "models" / "marts" / "billing" / "_billing__models.yml"
MARTS = {"fct_current_usage": "current_usage", "fct_invoices": "invoices", "fct_invoice_lines": "invoice_lines",
         "fct_instant_fees": "instant_fees"}
OCT, NOV, SEP = (date(2026, 10, 1), date(2026, 10, 31)), (date(2026, 11, 1), date(2026, 11, 30)), \
    (date(2026, 9, 1), date(2026, 9, 30))
AS_OF = datetime(2026, 10, 20, 12, 34, 56)
# one-time 100, then every 50 after it
SPEND = ("sub_a", "spend", "current_usage_amount", None, [("base", "100", False), ("every_50", "50", True)])
SUB_FEE = ("subscription", None, None, "1", "49.00")  # the plan's fee: not usage


# ---------------------------------------------------------------- a hand-made warehouse

def billing_tables(con: duckdb.DuckDBPyConnection) -> None:
    """billing.current_usage, invoices, invoice_lines and instant_fees with their contracts' columns."""
    models = {m["name"]: m for m in yaml.safe_load(CONTRACTS.read_text())["models"]}
    con.execute("create schema if not exists billing")
    for mart, table in MARTS.items():
        cols = ", ".join(f"{c['name']} {'varchar' if c['data_type'] == 'string' else c['data_type']}"
                         for c in models[mart]["columns"])
        con.execute(f"create table billing.{table} ({cols})")


def set_alerts(con: duckdb.DuckDBPyConnection, *defs: tuple) -> None:
    """defs: (subscription, code, type, metric, [(threshold code, value, recurring)])."""
    rows = [Alert(sub, code, f"{code} alert", kind, metric, i) for i, (sub, code, kind, metric, _) in
            enumerate(defs, start=2)]
    thresholds = [AlertThreshold(sub, code, p, t_code, Decimal(value), recurring)
                  for sub, code, _, _, ts in defs for p, (t_code, value, recurring) in enumerate(ts, start=1)]
    write(con, Catalog({"alerts": (SCHEMAS["alerts"], rows), "alert_thresholds": (SCHEMAS["alert_thresholds"],
                                                                                  thresholds)}))


def set_usage(con: duckdb.DuckDBPyConnection, sub: str, period: tuple[date, date], fees: list[tuple],
              as_of: datetime = AS_OF, currency: str = "USD") -> None:
    """Replace the subscription's open period: fees = (fee_type, metric, filter_index, units, amount)."""
    con.execute("delete from billing.current_usage where external_subscription_id = ?", [sub])
    con.executemany(
        "insert into billing.current_usage (external_customer_id, external_subscription_id, plan_code, currency, "
        "period_start, period_end, fee_type, charge_id, billable_metric_code, filter_index, group_key, units, "
        "events_count, amount, as_of) values (?, ?, 'plan', ?, ?, ?, ?, ?, ?, ?, '', ?, 1, ?, ?)",
        [[f"cus_{sub}", sub, currency, *period, kind, metric and f"ch_{metric}", metric, index, Decimal(units),
          Decimal(amount), as_of] for kind, metric, index, units, amount in fees])


def invoice(con: duckdb.DuckDBPyConnection, invoice_id: str, sub: str, kind: str, period: tuple[date, date],
            lines: list[tuple[str, str]]) -> None:
    """An invoice of `kind` and its lines (fee_type, amount)."""
    con.execute("insert into billing.invoices (invoice_id, external_customer_id, external_subscription_id, "
                "invoice_type, period_start, period_end, currency, status) values (?, ?, ?, ?, ?, ?, 'USD', 'draft')",
                [invoice_id, f"cus_{sub}", sub, kind, *period])
    con.executemany("insert into billing.invoice_lines (invoice_id, line_id, fee_type, amount, units, events_count, "
                    "currency) values (?, ?, ?, ?, 1, 1, 'USD')",
                    [[invoice_id, f"{invoice_id}:{i}", fee, Decimal(amount)] for i, (fee, amount) in enumerate(lines)])


@pytest.fixture
def con(tmp_path):
    with duckdb.connect(str(tmp_path / "warehouse.duckdb")) as connection:
        billing_tables(connection)
        yield connection


def fired(con: duckdb.DuckDBPyConnection) -> list[tuple]:
    """billing.triggered_alerts as (alert, threshold, recurring, previous, value, period start), in order."""
    return [(a, str(t), r, str(p), str(v), s) for a, t, r, p, v, s in con.execute(
        "select alert_code, threshold_value::decimal(20,2), is_recurring, previous_value::decimal(20,2), "
        "value::decimal(20,2), period_start from billing.triggered_alerts "
        "order by crossed_at, period_start, alert_code, threshold_value").fetchall()]


def trigger_id(key: str) -> str:
    """The trigger's lago_id: a UUID of subscription, alert, type, scope and the values crossed."""
    return str(uuid.uuid5(uuid.uuid5(uuid.NAMESPACE_URL, "tally:triggered_alert"), key))


def outbox(publish: Path) -> dict[str, bytes]:
    folder = publish / "alerts"
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())} if folder.exists() else {}


def lines(publish: Path, name: str) -> list[dict]:
    return [json.loads(line) for line in (publish / "alerts" / name).read_text().splitlines()]


# ---------------------------------------------------------------- when a threshold fires

def test_fixed_thresholds_fire_once_each_as_the_value_reaches_them(con, tmp_path):
    set_alerts(con, ("sub_a", "budget", "current_usage_amount", None, [("warn", "10", False), ("limit", "20", False)]))
    # charges 9.00 + 6.00 = 15.00 (the subscription fee, 49.00, is not usage: Lago's current usage amount)
    set_usage(con, "sub_a", OCT, [SUB_FEE, ("charge", "api_calls", 0, "900", "9.00"),
                                  ("charge", "tokens", 0, "600", "6.00")])
    assert [(t.threshold_code, t.threshold_value, t.value) for t in alerts.evaluate(con, tmp_path)] == [
        ("warn", Decimal("10"), Decimal("15"))]
    # 15.00 + 10.00 = 25.00: 20 fires; 10 fired already. previous = 15.00, the value 10 fired at.
    set_usage(con, "sub_a", OCT, [SUB_FEE, ("charge", "api_calls", 0, "1900", "19.00"),
                                  ("charge", "tokens", 0, "600", "6.00")], as_of=datetime(2026, 10, 21))
    assert len(alerts.evaluate(con, tmp_path)) == 1
    assert fired(con) == [("budget", "10.00", False, "0.00", "15.00", OCT[0]),
                          ("budget", "20.00", False, "15.00", "25.00", OCT[0])]
    assert len(outbox(tmp_path)) == 2  # one file per evaluation that fired


def test_a_value_that_went_down_fires_nothing(con, tmp_path):
    set_alerts(con, ("sub_a", "budget", "current_usage_amount", None, [("warn", "10", False), ("limit", "20", False),
                                                                       ("max", "30", False)]))
    set_usage(con, "sub_a", OCT, [("charge", "api_calls", 0, "2500", "25.00")])
    assert [t.threshold_value for t in alerts.evaluate(con, tmp_path)] == [Decimal("10"), Decimal("20")]
    before, files = fired(con), outbox(tmp_path)
    # 25.00 down to 15.00 (a max_agg metric's peak replaced): 10 and 20 fired already, 30 is above
    set_usage(con, "sub_a", OCT, [("charge", "api_calls", 0, "1500", "15.00")], as_of=datetime(2026, 10, 22))
    assert alerts.evaluate(con, tmp_path) == []
    assert fired(con) == before and outbox(tmp_path) == files


def test_a_recurring_threshold_fires_at_each_multiple_after_the_largest_one_time_threshold(con, tmp_path):
    set_alerts(con, SPEND)
    # initial = 100 (the largest one-time threshold), step 50; value 260:
    #   one-time 100 <= 260 fires; recurring k = 1 .. floor((260 - 100) / 50) = 3 -> 150, 200, 250 (300 > 260)
    set_usage(con, "sub_a", OCT, [("charge", "api_calls", 0, "26000", "260.00")])
    alerts.evaluate(con, tmp_path)
    # value 300 = 100 + 4 * 50: k = 4 fires 300 (it is reached, not passed), with previous 260
    set_usage(con, "sub_a", OCT, [("charge", "api_calls", 0, "30000", "300.00")], as_of=datetime(2026, 10, 22))
    alerts.evaluate(con, tmp_path)
    assert fired(con) == [("spend", "100.00", False, "0.00", "260.00", OCT[0]),
                          ("spend", "150.00", True, "0.00", "260.00", OCT[0]),
                          ("spend", "200.00", True, "0.00", "260.00", OCT[0]),
                          ("spend", "250.00", True, "0.00", "260.00", OCT[0]),
                          ("spend", "300.00", True, "260.00", "300.00", OCT[0])]


def test_recurring_multiples_are_exact_decimals(con, tmp_path):
    set_alerts(con, ("sub_a", "tenths", "billable_metric_current_usage_units", "gpus", [("step", "0.1", True)]))
    # no one-time threshold: initial 0, step 0.1; value 0.3 -> k = 1, 2, 3 (0.3 / 0.1 is 2.9999... as a double)
    set_usage(con, "sub_a", OCT, [("charge", "gpus", 0, "0.3", "450.00")])
    assert [t.threshold_value for t in alerts.evaluate(con, tmp_path)] == [Decimal("0.1"), Decimal("0.2"),
                                                                           Decimal("0.3")]


def test_metric_alerts_read_the_metrics_charge_fees_across_filters(con, tmp_path):
    set_alerts(con, ("sub_a", "tokens_units", "billable_metric_current_usage_units", "tokens",
                     [("1k", "1000", False), ("5k", "5000", False)]),
               ("sub_a", "tokens_spend", "billable_metric_current_usage_amount", "tokens", [("2.5", "2.5", False)]),
               ("sub_a", "seats_units", "billable_metric_current_usage_units", "seats", [("1", "1", False)]))
    # tokens: filter buckets 600 + 700 = 1,300 units (>= 1,000, < 5,000) and 1.20 + 1.40 = 2.60 (>= 2.5);
    # api_calls' 9,000 units are another metric's; seats has no fee in current usage: not evaluated (Lago)
    set_usage(con, "sub_a", OCT, [("charge", "tokens", 1, "600", "1.20"), ("charge", "tokens", 2, "700", "1.40"),
                                  ("charge", "api_calls", 0, "9000", "90.00")])
    alerts.evaluate(con, tmp_path)
    assert fired(con) == [("tokens_spend", "2.50", False, "0.00", "2.60", OCT[0]),
                          ("tokens_units", "1000.00", False, "0.00", "1300.00", OCT[0])]


def test_two_charges_on_one_metric_count_its_units_once_and_its_amounts_both(con, tmp_path):
    set_alerts(con, ("sub_a", "calls_units", "billable_metric_current_usage_units", "api_calls",
                     [("1k", "1000", False)]),
               ("sub_a", "calls_spend", "billable_metric_current_usage_amount", "api_calls", [("8", "8", False)]))
    set_usage(con, "sub_a", OCT, [("charge", "api_calls", 0, "600", "6.00")])
    # a second charge of the plan prices the same 600 events (in two groups, 250 + 350): the
    # metric's units are 600, not 1,200 (1k does not fire); its amount is 6.00 + 1.00 + 2.00 = 9.00
    con.executemany(
        "insert into billing.current_usage (external_customer_id, external_subscription_id, plan_code, currency, "
        "period_start, period_end, fee_type, charge_id, billable_metric_code, filter_index, group_key, units, "
        "events_count, amount, as_of) values ('cus_sub_a', 'sub_a', 'plan', 'USD', ?, ?, 'charge', 'ch_volume', "
        "'api_calls', 0, ?, ?, 1, ?, ?)",
        [[*OCT, "eu", Decimal("250"), Decimal("1.00"), AS_OF], [*OCT, "us", Decimal("350"), Decimal("2.00"), AS_OF]])
    alerts.evaluate(con, tmp_path)
    assert fired(con) == [("calls_spend", "8.00", False, "0.00", "9.00", OCT[0])]


# a pay-in-advance charge's fees so far in current usage (invoiced as they happened: 4.00 in October)
ADV = ("charge", "adv", 0, "1", "4.00")


def lifetime_world(con: duckdb.DuckDBPyConnection) -> None:
    """sub_a's September invoices and October's so far, with what Lago's invoiced usage leaves out."""
    invoice(con, "inv_a_20260901", "sub_a", "subscription", SEP,
            [("charge", "50.00"), ("charge", "21.00"), ("subscription", "49.00"), ("commitment", "7.00"),
             ("fixed_charge", "10.00")])
    invoice(con, "inv_a_20260901_pb1", "sub_a", "progressive_billing", SEP, [("charge", "20.00")])
    invoice(con, "inv_a_20260901_adj", "sub_a", "adjustment", SEP, [("charge", "5.00")])
    invoice(con, "inv_other_20260901", "sub_b", "subscription", SEP, [("charge", "500.00")])
    # October: a pay-in-advance fee invoiced as it happened, and the closing invoice a refresh drafts
    invoice(con, "inv_a_20261005_adv", "sub_a", "subscription", OCT, [("charge", "4.00")])
    con.execute("insert into billing.instant_fees (external_customer_id, external_subscription_id, charge_id, amount, "
                "invoiceable, invoice_id, line_id) values ('cus_sub_a', 'sub_a', 'ch_adv', 4.00, true, "
                "'inv_a_20261005_adv', 'inv_a_20261005_adv:0')")
    invoice(con, "inv_a_20261001", "sub_a", "subscription", OCT, [("charge", "30.00"), ("subscription", "49.00")])


def test_lifetime_usage_is_the_usage_invoiced_before_plus_the_current_usage(con, tmp_path):
    set_alerts(con, ("sub_a", "lifetime", "lifetime_usage_amount", None,
                     [("100", "100", False), ("108", "108", False), ("115", "115", False)]))
    lifetime_world(con)
    # invoiced: September's charge lines 50 + 21, its adjustment 5 = 76 (not the subscription fee 49,
    # commitment 7, fixed charge 10, progressive invoice 20, sub_b's 500, nor October's instant fee 4
    # and draft closing invoice 30: they are the current usage); + current 30 + 4 (the pay-in-advance
    # charge's fees so far) = 110: 100 and 108 fire, 115 does not (any line counted wrongly would add
    # at least 4 or 5 more)
    set_usage(con, "sub_a", OCT, [SUB_FEE, ("charge", "api_calls", 0, "3000", "30.00"), ADV])
    assert [t.value for t in alerts.evaluate(con, tmp_path)] == [Decimal("110"), Decimal("110")]
    assert fired(con) == [("lifetime", "100.00", False, "0.00", "110.00", OCT[0]),
                          ("lifetime", "108.00", False, "0.00", "110.00", OCT[0])]


def test_a_new_period_fires_current_usage_thresholds_again_but_not_lifetime_ones(con, tmp_path):
    set_alerts(con, ("sub_a", "lifetime", "lifetime_usage_amount", None,
                     [("100", "100", False), ("108", "108", False)]),
               ("sub_a", "monthly", "current_usage_amount", None, [("10", "10", False)]))
    lifetime_world(con)
    set_usage(con, "sub_a", OCT, [("charge", "api_calls", 0, "3000", "30.00"), ADV])
    alerts.evaluate(con, tmp_path)
    # November: October's instant (4) and closing (30) invoices are now before the open period;
    # current 12.00. lifetime = 76 + 4 + 30 + 12 = 122: 100 and 108 fired in October, once for the
    # subscription; monthly = 12.00: 10 fires again, in November's scope (previous 0)
    set_usage(con, "sub_a", NOV, [("charge", "api_calls", 0, "1200", "12.00")], as_of=datetime(2026, 11, 3))
    assert [(t.alert_code, t.threshold_value, t.value) for t in alerts.evaluate(con, tmp_path)] == [
        ("monthly", Decimal("10"), Decimal("12"))]
    assert fired(con) == [("lifetime", "100.00", False, "0.00", "110.00", OCT[0]),
                          ("lifetime", "108.00", False, "0.00", "110.00", OCT[0]),
                          ("monthly", "10.00", False, "0.00", "34.00", OCT[0]),
                          ("monthly", "10.00", False, "0.00", "12.00", NOV[0])]


# ---------------------------------------------------------------- re-runs, crashes, the outbox

def test_a_rerun_fires_nothing_new(con, tmp_path):
    set_alerts(con, SPEND)
    set_usage(con, "sub_a", OCT, [("charge", "api_calls", 0, "26000", "260.00")])
    assert len(alerts.evaluate(con, tmp_path)) == 4
    table, files = fired(con), outbox(tmp_path)
    assert alerts.evaluate(con, tmp_path) == []
    assert fired(con) == table and outbox(tmp_path) == files


def test_a_crash_after_the_commit_writes_the_file_once_whatever_lands_before_the_retry(con, tmp_path):
    set_alerts(con, ("sub_a", "budget", "current_usage_amount", None, [("warn", "10", False), ("limit", "20", False)]))
    set_usage(con, "sub_a", OCT, [("charge", "api_calls", 0, "1500", "15.00")])
    [warn] = alerts.evaluate(con, tmp_path)
    # the killed evaluation: its rows committed, its file never renamed in (a temporary one left)
    (tmp_path / "alerts" / warn.outbox_file).rename(tmp_path / "alerts" / f".{warn.outbox_file}.tmp")
    # more usage lands before the retry (15 → 25): warn is announced once, in its own file, and
    # limit in the next one, whose sequence sorts after it
    set_usage(con, "sub_a", OCT, [("charge", "api_calls", 0, "2500", "25.00")])
    [limit] = alerts.evaluate(con, tmp_path)
    files = outbox(tmp_path)
    assert sorted(files) == [warn.outbox_file, limit.outbox_file]
    assert warn.outbox_file.startswith("00000001-20261020T123456-") and limit.outbox_file.startswith("00000002-")
    announced = [json.loads(line)["triggered_alert"] for name in sorted(files) for line in files[name].splitlines()]
    assert [[t["code"] for t in a["crossed_thresholds"]] for a in announced] == [["warn"], ["limit"]]
    assert [a["current_value"] for a in announced] == ["1500.0", "2500.0"]
    # nothing more to write, nothing more to fire
    assert alerts.evaluate(con, tmp_path) == [] and outbox(tmp_path) == files


def webhook(key: str, sub: str, code: str, metric: str | None, kind: str, current: str,
            crossed: list[tuple[str, str, bool]]) -> dict:
    """Lago's alert.triggered body, keys in V1::UsageMonitoring::TriggeredAlertSerializer's order."""
    return {"webhook_type": "alert.triggered", "object_type": "triggered_alert", "triggered_alert": {
        "lago_id": trigger_id(key), "lago_organization_id": None, "lago_alert_id": None, "lago_subscription_id": None,
        "external_subscription_id": sub, "lago_wallet_id": None, "external_customer_id": f"cus_{sub}",
        "billable_metric_code": metric, "alert_name": f"{code} alert", "alert_code": code, "alert_type": kind,
        "current_value": current, "previous_value": "0.0",
        "crossed_thresholds": [{"code": c, "value": v, "recurring": r} for c, v, r in crossed],
        "triggered_at": "2026-10-20T12:34:56Z", "subscription_external_id": sub, "customer_external_id": f"cus_{sub}"}}


def test_the_outbox_lines_are_lagos_alert_triggered_webhooks(con, tmp_path):
    set_alerts(con, SPEND,
               ("sub_b", "tokens", "billable_metric_current_usage_units", "tokens", [("1m", "1000000", False)]),
               ("sub_c", "yen", "lifetime_usage_amount", None, [("2k", "2000", False)]))
    # sub_a: 260.00 USD crosses 100, 150, 200, 250, in cents as Lago (26000); sub_b: 1,250,000.5 units;
    # sub_c: 2,600 JPY (no minor unit: Lago's cents are yen)
    set_usage(con, "sub_a", OCT, [("charge", "api_calls", 0, "26000", "260.00")])
    set_usage(con, "sub_b", OCT, [("charge", "tokens", 0, "1250000.5", "2.50")])
    set_usage(con, "sub_c", OCT, [("charge", "api_calls", 0, "26", "2600")], currency="JPY")
    alerts.evaluate(con, tmp_path)
    expected = [
        webhook("sub_a|spend|current_usage_amount|2026-10-01|100.0,150.0,200.0,250.0", "sub_a", "spend", None,
                "current_usage_amount", "26000.0", [("base", "10000.0", False), ("every_50", "15000.0", True),
                                                    ("every_50", "20000.0", True), ("every_50", "25000.0", True)]),
        webhook("sub_b|tokens|billable_metric_current_usage_units|2026-10-01|1000000.0", "sub_b", "tokens", "tokens",
                "billable_metric_current_usage_units", "1250000.5", [("1m", "1000000.0", False)]),
        webhook("sub_c|yen|lifetime_usage_amount|lifetime|2000.0", "sub_c", "yen", None, "lifetime_usage_amount",
                "2600.0", [("2k", "2000.0", False)]),
    ]
    content = b"".join(json.dumps(e, separators=(",", ":")).encode() + b"\n" for e in expected)
    assert outbox(tmp_path) == {f"00000001-20261020T123456-{hashlib.sha256(content).hexdigest()[:16]}.jsonl": content}


# ---------------------------------------------------------------- before the first refresh

def test_nothing_fires_and_nothing_fails_before_current_usage_exists(tmp_path):
    with duckdb.connect(str(tmp_path / "warehouse.duckdb")) as connection:
        assert alerts.evaluate(connection, tmp_path) == []
        set_alerts(connection, ("sub_a", "budget", "current_usage_amount", None, [("warn", "10", False)]))
        assert alerts.evaluate(connection, tmp_path) == []
        assert connection.execute("select count(*) from information_schema.tables "
                                  "where table_schema = 'billing'").fetchone()[0] == 0
    assert outbox(tmp_path) == {}


def test_without_a_publish_folder_the_rows_are_kept_without_an_outbox(con, tmp_path):
    set_alerts(con, ("sub_a", "budget", "current_usage_amount", None, [("warn", "10", False)]))
    set_usage(con, "sub_a", OCT, [("charge", "api_calls", 0, "1500", "15.00")])
    [row] = alerts.evaluate(con, None)
    assert row.outbox_file is None and fired(con) == [("budget", "10.00", False, "0.00", "15.00", OCT[0])]
    assert alerts.evaluate(con, tmp_path) == [] and outbox(tmp_path) == {}
