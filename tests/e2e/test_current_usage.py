"""Current usage through the `new_landing_files` sensor (issue 15, item 1): three files land a
minute apart; after each, the sensor asks for a `refresh_current_usage` run, and
billing.current_usage moves with the file, each figure worked out by hand from the small
catalog (tests/fixtures/small/catalog). Then `tally run` closes October: the invoice bills
exactly what current usage showed."""
from __future__ import annotations

import json
import os
import re
import shutil
from decimal import Decimal as D
from pathlib import Path

import pytest
from dagster import DagsterInstance, build_sensor_context

from tests.helpers import REPO, rows, tally

QUIET = {"loggers": {"console": {"config": {"log_level": "ERROR"}}}}


def _event(tx: str, sub: str, code: str, at: str, **props) -> dict:
    return {"transaction_id": tx, "external_subscription_id": sub, "code": code, "timestamp": at,
            "properties": props}


FILES = [
    # 10:00, sub_a: 1,000 small-model tokens (default bucket, $0.001) and 200 large (bucket 1, $0.003)
    ("f1.jsonl", [_event("t1", "sub_a", "tokens", "2026-10-03T10:00:00Z", tokens=1000, model="small"),
                  _event("t2", "sub_a", "tokens", "2026-10-03T10:00:30Z", tokens=200, model="large")]),
    # 10:01: 500 more small tokens and 3 API calls (graduated: the first 10,000 are free)
    ("f2.jsonl", [_event("t3", "sub_a", "tokens", "2026-10-03T10:01:00Z", tokens=500, model="small"),
                  *[_event(f"c{i}", "sub_a", "api_calls", "2026-10-03T10:01:10Z") for i in range(3)]]),
    # 10:02: 100 more large tokens, and t1 sent again (a duplicate: counted once)
    ("f3.jsonl", [_event("t4", "sub_a", "tokens", "2026-10-03T10:02:00Z", tokens=100, model="large"),
                  _event("t1", "sub_a", "tokens", "2026-10-03T10:00:00Z", tokens=1000, model="small")]),
]

# after each file: (bucket 0 units, amount, projected amount), (bucket 1 ...), c_calls units, as_of.
# Projection (Lago): October 3 is day 3 of 31, so × 31/3, rounded to the cent.
EXPECTED = [
    ((D("1000"), D("1.00"), D("10.33")), (D("200"), D("0.60"), D("6.20")), D("0"), "2026-10-03 10:00:30"),
    ((D("1500"), D("1.50"), D("15.50")), (D("200"), D("0.60"), D("6.20")), D("3"), "2026-10-03 10:01:10"),
    ((D("1500"), D("1.50"), D("15.50")), (D("300"), D("0.90"), D("9.30")), D("3"), "2026-10-03 10:02:00"),
]


# two alerts on sub_a. budget: its charges' amount so far reaches $1 after f1 (1.00 + 0.60 =
# 1.60) and $2 after f2 (1.50 + 0.60 = 2.10); tokens: every 500 tokens, 1,200 after f1 (500 and
# 1,000 fire), 1,700 after f2 (1,500), 1,800 after f3 (nothing: 2,000 is not reached)
ALERTS = """code,name,external_subscription_id,alert_type,billable_metric_code,thresholds
budget,Usage budget,sub_a,current_usage_amount,,"[{""code"": ""one"", ""value"": ""1"", ""recurring"": false}, \
{""code"": ""two"", ""value"": ""2"", ""recurring"": false}]"
tokens,Tokens,sub_a,billable_metric_current_usage_units,tokens,"[{""code"": ""every_500"", ""value"": ""500"", \
""recurring"": true}]"
""".replace("\\\n", "")
FIRED = [  # per file: (alert, threshold, value, crossed at)
    {("budget", D("1"), D("1.60"), "2026-10-03 10:00:30"), ("tokens", D("500"), D("1200"), "2026-10-03 10:00:30"),
     ("tokens", D("1000"), D("1200"), "2026-10-03 10:00:30")},
    {("budget", D("2"), D("2.10"), "2026-10-03 10:01:10"), ("tokens", D("1500"), D("1700"), "2026-10-03 10:01:10")},
    set(),
]


@pytest.fixture()
def paths(tmp_path, small_catalog, monkeypatch) -> dict:
    landing = tmp_path / "landing"
    landing.mkdir()
    catalog = tmp_path / "catalog"
    shutil.copytree(small_catalog, catalog)
    (catalog / "alerts.csv").write_text(ALERTS)
    env = {"TALLY_WAREHOUSE": tmp_path / "w.duckdb", "TALLY_CATALOG": catalog, "TALLY_LANDING": landing,
           "TALLY_PUBLISH": tmp_path / "published"}
    for name, value in env.items():
        monkeypatch.setenv(name, str(value))
    return {"landing": landing, "warehouse": tmp_path / "w.duckdb", "published": tmp_path / "published",
            "catalog": catalog}


def _fired(warehouse: Path) -> set:
    return {(code, threshold, value, str(at)) for code, threshold, value, at in rows(warehouse, """
        select alert_code, threshold_value, value, crossed_at from billing.triggered_alerts""")}


def _land(landing: Path, name: str, events: list[dict], minute: int) -> None:
    path = landing / name
    path.write_text("".join(json.dumps(e) + "\n" for e in events))
    stamp = 1_790_000_000 + 60 * minute  # a minute apart
    os.utime(path, (stamp, stamp))


def _usage(warehouse: Path) -> dict:
    return {(sub, fee_type, charge, idx): (units, events, amount, projected, str(as_of))
            for sub, fee_type, charge, idx, units, events, amount, projected, as_of in rows(warehouse, """
                select external_subscription_id, fee_type, charge_id, filter_index, units, events_count,
                       amount, projected_amount, as_of
                from billing.current_usage""")}


def test_current_usage_moves_with_each_file_and_equals_the_closing_invoice(paths):
    from orchestration.definitions import defs
    from orchestration.defs.automation import new_landing_files
    job = defs.resolve_job_def("refresh_current_usage")
    instance = DagsterInstance.ephemeral()
    cursor = None
    fired_before: set = set()
    for minute, ((name, events), expected, fired) in enumerate(zip(FILES, EXPECTED, FIRED, strict=True)):
        _land(paths["landing"], name, events, minute)
        context = build_sensor_context(instance=instance, cursor=cursor)
        request = new_landing_files(context)
        cursor = context.cursor
        # the sensor asks once per change: evaluated again, it skips
        assert type(new_landing_files(build_sensor_context(instance=instance, cursor=cursor))).__name__ == "SkipReason"
        result = job.execute_in_process(partition_key=request.partition_key, instance=instance, run_config=QUIET)
        assert result.success
        # each threshold fires once, when the file that crosses it lands; the check lists them
        assert _fired(paths["warehouse"]) - fired_before == fired
        fired_before = _fired(paths["warehouse"])
        (check,) = result.get_asset_check_evaluations()
        assert (check.check_name, check.passed, check.metadata["fired"].value) == \
            ("usage_alerts", not fired, len(fired))
        usage = _usage(paths["warehouse"])
        (small_units, small_amount, small_projected), (large_units, large_amount, large_projected), calls, as_of = \
            expected
        assert usage[("sub_a", "charge", "c_tokens", 0)][0] == small_units
        assert usage[("sub_a", "charge", "c_tokens", 0)][2:] == (small_amount, small_projected, as_of)
        assert usage[("sub_a", "charge", "c_tokens", 1)][0] == large_units
        assert usage[("sub_a", "charge", "c_tokens", 1)][2:] == (large_amount, large_projected, as_of)
        assert usage[("sub_a", "charge", "c_calls", 0)][:3] == (calls, int(calls), D("0"))
        # the plan's $49 for October is due in full, whatever the day
        assert usage[("sub_a", "subscription", None, None)][2:4] == (D("49"), D("49"))
        # sub_b starts on October 16: no open period yet on the 3rd
        assert not [k for k in usage if k[0] == "sub_b"]
        # the customer's page shows the open period
        page = (paths["published"] / "pages" / "customers" / "cus_a.html").read_text()
        assert "Usage so far" in page and f"{small_amount + large_amount + 49:.2f}" in page

    # the customer's page with its open period, as Chromium renders it (TALLY_UPDATE_SCREENSHOTS=1
    # keeps the picture for the README): 1.50 + 0.90 + 49 so far, 15.50 + 9.30 + 49 projected
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser:
        from tests.e2e.test_invoice_pages import assert_plausible_png, browse
        png, dom = browse(browser, paths["published"] / "pages" / "customers" / "cus_a.html", paths["landing"].parent)
        assert_plausible_png(png)
        if os.environ.get("TALLY_UPDATE_SCREENSHOTS"):
            (REPO / "docs" / "screenshots" / "customer-open-period.png").write_bytes(png)
        section = re.search(r'<section class="open-period" id="open-sub_a">.*?</section>', dom, re.DOTALL).group(0)
        assert re.search(r'class="num current-total">\$51\.40<', section)
        assert re.search(r'class="num projected-total">\$73\.80<', section)
        assert "2026-10-01 – 2026-10-31" in section and "as of 2026-10-03 10:02:00 UTC" in section

    # October closes: the invoice bills exactly what current usage showed for those events
    tally("run", "--catalog", str(paths["catalog"]), "--landing", str(paths["landing"]),
          "--warehouse", str(paths["warehouse"]), "--period", "2026-10", "--publish", str(paths["published"]))
    # that run published current usage again: no alert fires twice; the outbox has one file per
    # refresh that fired, one Lago alert.triggered line per alert
    assert _fired(paths["warehouse"]) == fired_before
    outbox = sorted((paths["published"] / "alerts").iterdir())
    assert [f.name[:25] for f in outbox] == ["00000001-20261003T100030-", "00000002-20261003T100110-"]
    first = [json.loads(line) for line in outbox[0].read_text().splitlines()]
    assert [(w["webhook_type"], w["triggered_alert"]["alert_code"], w["triggered_alert"]["current_value"],
             w["triggered_alert"]["previous_value"], w["triggered_alert"]["crossed_thresholds"],
             w["triggered_alert"]["triggered_at"]) for w in first] == [
        # amounts in cents, as Lago's alerts compare them
        ("alert.triggered", "budget", "160.0", "0.0", [{"code": "one", "value": "100.0", "recurring": False}],
         "2026-10-03T10:00:30Z"),
        ("alert.triggered", "tokens", "1200.0", "0.0", [{"code": "every_500", "value": "500.0", "recurring": True},
                                                          {"code": "every_500", "value": "1000.0", "recurring": True}],
         "2026-10-03T10:00:30Z")]
    second = [json.loads(line)["triggered_alert"] for line in outbox[1].read_text().splitlines()]
    assert [(w["alert_code"], w["current_value"], w["previous_value"]) for w in second] == [
        ("budget", "210.0", "160.0"), ("tokens", "1700.0", "1200.0")]

    billed = {(charge, line_id.rsplit(":", 1)[1]): (units, events, amount)
              for line_id, charge, units, events, amount in rows(paths["warehouse"], """
                  select line_id, charge_id, units, events_count, amount from billing.invoice_lines
                  where invoice_id = 'inv_sub_a_20261001' and fee_type = 'charge'""")}
    shown = {(k[2], str(k[3])): v[:3] for k, v in _usage(paths["warehouse"]).items()
             if k[0] == "sub_a" and k[1] == "charge"}
    assert billed == shown
    assert billed[("c_tokens", "0")] == (D("1500"), 2, D("1.50"))
    assert billed[("c_tokens", "1")] == (D("300"), 2, D("0.90"))

    # re-running an earlier month (September, before the latest events) is not today: current
    # usage and the alerts stay as October's run left them
    before = rows(paths["warehouse"], "select * from billing.current_usage order by all")
    tally("run", "--catalog", str(paths["catalog"]), "--landing", str(paths["landing"]),
          "--warehouse", str(paths["warehouse"]), "--period", "2026-09", "--publish", str(paths["published"]))
    assert rows(paths["warehouse"], "select * from billing.current_usage order by all") == before
    assert _fired(paths["warehouse"]) == fired_before
