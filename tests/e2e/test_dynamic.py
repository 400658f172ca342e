"""Dynamic charges end to end (issue 17, Lago charges/charge_models/dynamic_service): the amount
comes with each event as `precise_total_amount_cents` (JSON Lines, CSV and Parquet alike), is
summed per fee, divided by the currency's subunits and rounded once. A USD world with a charge
filter and a pricing group, a JPY one with a charge minimum, one `tally run`; every figure
worked by hand next to its assertion."""
from __future__ import annotations

import json
from decimal import Decimal as D
from pathlib import Path

import duckdb
import pytest

from tests.helpers import tally

CATALOG = {
    "customers.csv": """external_id,name,currency,timezone,tax_codes
c_usd,Dollar,USD,UTC,
c_jpy,Yen,JPY,UTC,
""",
    "billable_metrics.csv": """code,name,aggregation_type,field_name,recurring,rounding_function,rounding_precision,filters
llm,LLM calls,sum_agg,tokens,false,,,"{""model"": [""small"", ""large""]}"
""",
    # description: a column Tally ignores, with a warning in the run summary
    "plans.csv": """code,name,interval,amount,currency,pay_in_advance,trial_period,minimum_commitment,description
p_usd,Dollar LLM,monthly,0,USD,false,0,,Pay what the models cost
p_jpy,Yen LLM,monthly,0,JPY,false,0,,
""",
    "charges.csv": """id,plan_code,billable_metric_code,charge_model,properties,pay_in_advance,min_amount,invoice_display_name,filters
ch_usd,p_usd,llm,dynamic,"{""pricing_group_keys"": [""region""]}",false,,LLM cost,"[{""values"": {""model"": [""large""]}, ""properties"": {}, ""invoice_display_name"": ""Large model cost""}]"
ch_jpy,p_jpy,llm,dynamic,{},false,2000,LLM cost,
""",
    "subscriptions.csv": """external_id,external_customer_id,plan_code,started_at,ending_at,billing_time
s_usd,c_usd,p_usd,2026-10-01,,calendar
s_jpy,c_jpy,p_jpy,2026-10-01,,calendar
""",
}


def llm(tid: str, sub: str, day: int, tokens: int, model: str, region: str, cents=None) -> dict:
    event = {"transaction_id": tid, "external_subscription_id": sub, "code": "llm",
             "timestamp": f"2026-10-{day:02d}T12:00:00Z", "properties": {"tokens": tokens, "model": model,
                                                                        "region": region}}
    if cents is not None:
        event["precise_total_amount_cents"] = cents
    return event


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> tuple[Path, str]:
    root = tmp_path_factory.mktemp("dynamic")
    catalog, landing = root / "catalog", root / "landing"
    catalog.mkdir()
    landing.mkdir()
    for name, text in CATALOG.items():
        (catalog / name).write_text(text)
    events = [
        # s_usd, default bucket (model small), group eu: 123.456 + 100.0 (a JSON number) + 0.5 cents
        llm("u1", "s_usd", 2, 10, "small", "eu", "123.456"),
        llm("u2", "s_usd", 3, 20, "small", "eu", 100.0),
        # s_usd, filter 1 (model large), group us: 1000.4 + 0.6 cents
        llm("u4", "s_usd", 4, 7, "large", "us", "1000.4"),
        # s_jpy: 1500.4 + 200.2 yen (JPY has no subunits: cents are yen)
        llm("j1", "s_jpy", 2, 1, "small", "jp", "1500.4"),
        llm("j2", "s_jpy", 9, 1, "small", "jp", "200.2"),
        # a resend with another amount: conflicting, not billed
        llm("u1", "s_usd", 2, 10, "small", "eu", "999"),
    ]
    (landing / "a_events.jsonl").write_text("".join(json.dumps(e) + "\n" for e in events))
    # CSV: 0.5 cents more for group eu; a row without an amount adds its units only; a bad amount is quarantined
    (landing / "b_events.csv").write_text(
        "transaction_id,external_subscription_id,code,timestamp,properties,precise_total_amount_cents\n"
        'u3,s_usd,llm,2026-10-05T12:00:00Z,"{""tokens"": 5, ""model"": ""small"", ""region"": ""eu""}",0.5\n'
        'u6,s_usd,llm,2026-10-06T12:00:00Z,"{""tokens"": 2, ""model"": ""small"", ""region"": ""eu""}",\n'
        'u7,s_usd,llm,2026-10-07T12:00:00Z,"{""tokens"": 3, ""model"": ""small"", ""region"": ""eu""}",1.5e2\n')
    # Parquet: a DECIMAL column, 0.6 cents more for the large model in us
    duckdb.sql(f"""copy (select 'u5' as transaction_id, 's_usd' as external_subscription_id, 'llm' as code,
                                timestamp '2026-10-08 12:00:00' as timestamp,
                                '{{"tokens": 1, "model": "large", "region": "us"}}' as properties,
                                0.6::decimal(6, 2) as precise_total_amount_cents)
                   to '{landing / "c_events.parquet"}'""")
    warehouse = root / "warehouse.duckdb"
    done = tally("run", "--catalog", str(catalog), "--landing", str(landing), "--warehouse", str(warehouse),
                 "--period", "2026-10", "--publish", str(root / "published"))
    return warehouse, done.stdout


@pytest.fixture(scope="module")
def billed(run) -> Path:
    return run[0]


def rows(warehouse: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(sql).fetchall()


def test_dynamic_fees_are_the_sent_amounts_rounded_once_per_fee(billed):
    lines = rows(billed, """select line_id, units, events_count, amount from billing.invoice_lines
                            where invoice_id = 'inv_s_usd_20261001' and fee_type = 'charge' order by line_id""")
    assert lines == [
        # default bucket, group eu: 123.456 + 100.0 + 0.5 = 223.956 cents → 2.23956 → 2.24 USD;
        # units 10 + 20 + 5 + 2 = 37 tokens (u6 sent no amount: units, no money)
        ("inv_s_usd_20261001:ch_usd:0:region=eu", D("37"), 4, D("2.24")),
        # filter 1 (model large), group us: 1000.4 + 0.6 = 1001.0 cents → 10.01 USD; 7 + 1 tokens
        ("inv_s_usd_20261001:ch_usd:1:region=us", D("8"), 2, D("10.01")),
    ]
    assert rows(billed, "select fees_amount, total_amount from billing.invoices "
                        "where invoice_id = 'inv_s_usd_20261001'") == [(D("12.25"), D("12.25"))]


def test_jpy_has_no_subunits_and_the_charge_minimum_tops_a_dynamic_fee_up(billed):
    lines = rows(billed, """select line_id, units, amount from billing.invoice_lines
                            where invoice_id = 'inv_s_jpy_20261001' and fee_type = 'charge' order by amount desc""")
    # 1500.4 + 200.2 = 1700.6 yen → 1701 JPY; the minimum 2000 tops it up by 299 (true-up line)
    assert [(units, amount) for _, units, amount in lines] == [(D("2"), D("1701")), (D("1"), D("299"))]
    assert lines[1][0].endswith(":true_up")
    assert rows(billed, "select fees_amount, total_amount from billing.invoices "
                        "where invoice_id = 'inv_s_jpy_20261001'") == [(D("2000"), D("2000"))]


def test_a_bad_amount_is_quarantined_and_a_different_resend_conflicts(billed):
    assert rows(billed, """select source_file, line_number, transaction_id, reason from billing.quarantined_events
                           order by 1, 2""") == [
        ("a_events.jsonl", 6, "u1", "conflicting_duplicate"),
        ("b_events.csv", 4, "u7", "non_numeric_value"),
    ]


def test_the_run_summary_lists_the_catalog_warnings(run):
    _, stdout = run
    assert "catalog warnings: 1 (loaded, not billed)" in stdout
    assert ("plans.csv: column 'description' is ignored (display or Lago bookkeeping only: it does not change "
            "what is billed)") in " ".join(stdout.split())
