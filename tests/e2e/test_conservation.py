"""Conservation over a generated world with every kind of charge (issue 17): nothing is billed
twice and nothing is lost. The world is the bench's (benchmarks/generate.py: six plans, every
aggregation, charge filters, a pricing group, usage thresholds, seats prorated by active days,
images paid in advance with one invoice per subscription and day, an LLM cost passed through with
`dynamic`, a platform fee in advance and contracted seats as fixed charges), 60 customers in four
timezones and 30,000 events over October and November 2026 with re-sends and bad rows, billed by
one `tally run`. Every expected figure is computed here from the landed file and the catalog, not
from Tally's models:

- every event sent is billed, quarantined or a duplicate; every billed event is counted once on
  the invoices (Σ events_count of a subscription's metric and month = its events);
- a pay-in-advance charge is billed only by its instant fees, one per event, never again on the
  period-end invoice; its fees add up to the charge model's price of the month's units
  (price(after) − price(before) telescopes);
- a `dynamic` line bills Σ precise_total_amount_cents / 100 of its events, rounded once;
- fixed charges: one line per subscription, period and fixed charge, at the contracted price;
- every invoice's fees are the sum of its lines."""
from __future__ import annotations

import re
from datetime import date
from decimal import ROUND_HALF_UP
from decimal import Decimal as D
from pathlib import Path

import duckdb
import pytest

from benchmarks import generate
from tests.helpers import tally

CUSTOMERS = 60
EVENTS = 30_000
# Oct 2 to Nov 29 (UTC): every timezone of the bench (UTC to Tokyo, New York) bills them in its
# local October or November, the two months billed
FIRST_DAY, DAYS = date(2026, 10, 2), 58


def write_world(root: Path, customers: int = CUSTOMERS, events: int = EVENTS) -> tuple[Path, Path]:
    """The bench's catalog for `customers` and `events` events over Oct 2 - Nov 29 (UTC): the
    catalog and landing folders (also billed on both engines by test_spark_unit_tests.py)."""
    catalog, landing = root / "catalog", root / "landing"
    generate.catalog(catalog, customers)
    landing.mkdir(parents=True)
    generate.events(landing / "events.parquet", FIRST_DAY, DAYS, events, customers, seed=17)
    return catalog, landing


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> dict:
    root = tmp_path_factory.mktemp("conservation")
    catalog, landing = write_world(root)
    events = landing / "events.parquet"
    warehouse = root / "w.duckdb"
    run = tally("run", "--catalog", str(catalog), "--landing", str(landing), "--warehouse", str(warehouse),
                "--from", "2026-10", "--to", "2026-11", "--no-pages", "--publish", str(root / "published"))
    con = duckdb.connect()
    con.execute("set TimeZone = 'UTC'")
    con.execute(f"attach '{warehouse}' as w (read_only)")
    # the landed events as sent, and the valid ones (a code, a timestamp, the first copy of a
    # transaction id; the non-numeric token counts are quarantined) in their customer's local month
    con.execute(f"create view sent as select * from read_parquet('{events}')")
    con.execute(f"""
        create table valid as
        with firsts as (
            select * from sent
            where code is not null and timestamp <> 'yesterday'
                and not (code = 'tokens' and json_extract_string(properties, '$.tokens') = 'many')
            qualify row_number() over (partition by external_subscription_id, transaction_id order by 1) = 1
        ),
        zones as (
            select s.external_id as subscription, c.timezone, s.plan_code
            from read_csv('{catalog}/subscriptions.csv') as s
            inner join read_csv('{catalog}/customers.csv') as c on s.external_customer_id = c.external_id
        )
        select firsts.*, zones.plan_code,
               date_trunc('month', timezone(zones.timezone,
                                            strptime(timestamp, '%Y-%m-%dT%H:%M:%S.%fZ')::timestamptz))::date as month
        from firsts inner join zones on firsts.external_subscription_id = zones.subscription""")
    yield {"con": con, "stdout": run.stdout, "catalog": catalog}
    con.close()


def q(world: dict, sql: str) -> list[tuple]:
    return world["con"].execute(sql).fetchall()


def test_every_event_sent_is_billed_quarantined_or_a_duplicate(world):
    sent = q(world, "select count(*) from sent")[0][0]
    # 30,000 events and a re-send of every i with i % 200 = 3: 150 more
    assert sent == EVENTS + EVENTS // 200
    line = re.search(r"events sent: (\d+) = billed (\d+) \+ quarantined (\d+) \+ duplicates ignored (\d+)",
                     world["stdout"])
    assert line, world["stdout"][-2000:]
    total, billed, quarantined, duplicates = map(int, line.groups())
    assert total == sent and billed + quarantined + duplicates == sent
    assert duplicates == EVENTS // 200
    assert billed == q(world, "select count(*) from valid")[0][0]
    assert q(world, "select count(*) from w.billing.quarantined_events")[0][0] == quarantined


def test_each_billed_event_is_counted_once_on_the_invoices(world):
    # per subscription, metric and local month: events on the invoices (period-end lines and
    # instant fee lines; progressive-billing invoices re-count what their closing invoice bills)
    # against the events landed
    on_invoices = {(s, m, p): n for s, m, p, n in q(world, """
        select i.external_subscription_id, l.billable_metric_code, date_trunc('month', i.period_start)::date,
               sum(l.events_count)
        from w.billing.invoice_lines as l
        inner join w.billing.invoices as i on l.invoice_id = i.invoice_id
        where l.fee_type = 'charge' and i.invoice_type = 'subscription' and l.line_id not in
            (select line_id from w.billing.instant_fees where line_id is not null)
        group by all
        union all
        select external_subscription_id, billable_metric_code, date_trunc('month', usage_date)::date, count(*)
        from w.billing.instant_fees group by all""")}
    # recurring metrics (seats, active_users, gpus) are left out: their lines count the events
    # that carry the units over from earlier periods too
    landed = {(s, m, p): n for s, m, p, n in q(world, """
        select external_subscription_id, code, month, count(*) from valid
        where code not in ('seats', 'active_users', 'gpus') group by all""")}
    on_invoices = {k: v for k, v in on_invoices.items() if k[1] not in ("seats", "active_users", "gpus")}
    assert sum(landed.values()) > 25_000
    missing = {k: v for k, v in landed.items() if on_invoices.get(k, 0) != v}
    assert not missing, f"{len(missing)} subscription-metric-months differ, e.g. " + str(
        [(k, v, on_invoices.get(k)) for k, v in list(missing.items())[:5]])
    assert not {k for k, v in on_invoices.items() if v and k not in landed}


def test_an_instant_charge_is_billed_once_per_event_and_never_at_period_end(world):
    # ch_teamseat_images: graduated in advance, 0.04 an image up to 500 a month, then 0.02
    period_end_lines = q(world, """
        select count(*) from w.billing.invoice_lines as l
        where l.charge_id = 'ch_teamseat_images'
            and l.line_id not in (select line_id from w.billing.instant_fees where line_id is not null)""")
    assert period_end_lines == [(0,)]
    fees = {(s, m): (units, amount, n) for s, m, units, amount, n in q(world, """
        select external_subscription_id, date_trunc('month', usage_date)::date, sum(units), sum(amount), count(*)
        from w.billing.instant_fees where charge_id = 'ch_teamseat_images' group by all""")}
    images = {(s, m): (units, n) for s, m, units, n in q(world, """
        select external_subscription_id, month, sum(json_extract_string(properties, '$.images')::int), count(*)
        from valid where code = 'images' group by all""")}
    assert fees.keys() == images.keys() and len(images) >= 15
    for key, (units, n) in images.items():
        price = D("0.04") * min(units, 500) + D("0.02") * max(units - 500, 0)
        assert fees[key] == (units, price, n), key
    # every fee is on a daily invoice of its subscription (grouping `day`), issued on its local day
    assert q(world, """
        select count(*) from w.billing.instant_fees as f
        inner join w.billing.invoices as i on f.invoice_id = i.invoice_id
        where i.issuing_date <> f.usage_date or i.external_subscription_id <> f.external_subscription_id
            or f.invoice_id not like '%\\_adv' escape '\\'""") == [(0,)]


def test_a_dynamic_line_bills_the_events_own_amounts_rounded_once(world):
    lines = {(s, m): (units, amount) for s, m, units, amount in q(world, """
        select i.external_subscription_id, date_trunc('month', i.period_start)::date, l.units, l.amount
        from w.billing.invoice_lines as l inner join w.billing.invoices as i on l.invoice_id = i.invoice_id
        where l.charge_id in ('ch_teamseat_llm', 'ch_entseat_llm') and i.invoice_type = 'subscription'""")}
    sent = q(world, """
        select external_subscription_id, month, sum(json_extract_string(properties, '$.output_tokens')::int),
               sum(precise_total_amount_cents::decimal(18, 4))
        from valid where code = 'llm_requests' group by all""")
    assert len(sent) >= 15
    for s, m, tokens, cents in sent:
        assert lines[(s, m)] == (tokens, (cents / 100).quantize(D("0.01"), ROUND_HALF_UP)), (s, m)


def test_fixed_charges_are_billed_once_per_period_at_the_contracted_price(world):
    subs = [s for (s,) in q(world, f"""select external_id from read_csv('{world["catalog"]}/subscriptions.csv')
                                      where plan_code = 'enterprise_seats_usd'""")]
    assert len(subs) == CUSTOMERS // 6
    got = q(world, """
        select l.charge_id, i.external_subscription_id, i.issuing_date, l.units, l.amount
        from w.billing.invoice_lines as l inner join w.billing.invoices as i on l.invoice_id = i.invoice_id
        where l.fee_type = 'fixed_charge' order by 1, 2, 3""")
    # the platform fee (1 × 2000.00) is in advance: each closing invoice of a billed month (Nov 1,
    # Dec 1) opens the next period and carries its fee (October's is on September's closing
    # invoice, not billed here); the contracted seats (25 × 40.00, in arrears) close Oct and Nov
    closing = (date(2026, 11, 1), date(2026, 12, 1))
    expected = sorted([("fc_entseat_platform", s, d, D(1), D("2000.00")) for s in subs for d in closing]
                      + [("fc_entseat_seats", s, d, D(25), D("1000.00")) for s in subs for d in closing])
    assert got == expected


def test_every_invoice_adds_up_from_its_lines(world):
    assert q(world, """
        select count(*) from w.billing.invoices as i
        left join (select invoice_id, sum(amount) as fees from w.billing.invoice_lines group by 1) as l
            on i.invoice_id = l.invoice_id
        where i.fees_amount <> coalesce(l.fees, 0)
            or i.total_amount <> i.sub_total_including_taxes - i.progressive_billing_credit_amount
                - i.credit_notes_amount - i.prepaid_credit_amount""") == [(0,)]
