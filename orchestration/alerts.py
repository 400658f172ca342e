"""Usage alerts (catalog alerts.csv, docs/decisions.md 26): after each refresh of
billing.current_usage, the thresholds each alert's value has reached and not yet fired are
fired: appended to billing.triggered_alerts and announced in an append-only outbox,
`<publish>/alerts/*.jsonl`, one Lago `alert.triggered` webhook body per line for a relay to post.

- The value (Lago's `find_value`), over the subscription's open period in billing.current_usage:
  current_usage_amount the amount of its charge fees (Lago's current usage has no subscription
  fee); billable_metric_current_usage_amount / _units the amount / units of the metric's charge
  fees; lifetime_usage_amount the usage already invoiced (Lago's invoiced_usage_amount: charge
  lines of subscription invoices, and here of their adjustments, before the open period) plus the
  current amount (the open period's pay-in-advance fees included).
- The fired set is the state: a threshold fires once it is at or below the value and is not in
  billing.triggered_alerts for the same alert and scope; the scope is the open period for the
  current-usage types, the whole subscription for lifetime. A recurring step s fires at
  initial + k·s (k >= 1, initial the largest one-time threshold, else 0), as Lago. So one
  refresh can fire several thresholds, a value that went down fires nothing, and a re-run over
  the same tables fires nothing new.
- Crossed at: the refresh's as_of (the latest event time included); Lago stamps the processing time.
- Order (a transactional outbox): the rows first, in one transaction, each naming its outbox
  file (`<sequence>-<as_of>-<hash>.jsonl`, the sequence sorting files in firing order); then the
  file, written whole and renamed in. A file the rows name but the folder lacks (a crash after
  the commit) is written from them at the next evaluation: each threshold is announced once.
"""
from __future__ import annotations

import hashlib
import json
import os
import uuid
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import NamedTuple

import duckdb

from orchestration.lib.money import minor_unit
from orchestration.lib.warehouse import table_exists

OUTBOX = "alerts"
LIFETIME = "lifetime_usage_amount"
AMOUNT_TYPES = ("current_usage_amount", "billable_metric_current_usage_amount", LIFETIME)
# the triggered alerts' own namespace: lago_id is a UUID of the trigger, the same on every re-run
TRIGGER_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "tally:triggered_alert")

DDL = """
create table if not exists billing.triggered_alerts (
    alert_code varchar not null,
    alert_name varchar,
    alert_type varchar not null,
    external_subscription_id varchar not null,
    external_customer_id varchar not null,
    billable_metric_code varchar,
    threshold_code varchar,
    threshold_value decimal(38, 10) not null,
    is_recurring boolean not null,
    previous_value decimal(38, 10) not null,
    value decimal(38, 10) not null,
    crossed_at timestamp not null,
    period_start date not null,
    period_end date not null,
    currency varchar not null,
    outbox_file varchar
)
"""


class TriggeredAlert(NamedTuple):
    """One threshold fired: a row of billing.triggered_alerts (amounts in the currency, units in units)."""
    alert_code: str
    alert_name: str | None
    alert_type: str
    external_subscription_id: str
    external_customer_id: str
    billable_metric_code: str | None
    threshold_code: str | None
    threshold_value: Decimal
    is_recurring: bool
    previous_value: Decimal  # the highest value this alert fired at before, in the same scope (0: none)
    value: Decimal  # the value that crossed it
    crossed_at: datetime  # current_usage.as_of
    period_start: date  # the open period
    period_end: date
    currency: str
    outbox_file: str | None


# The open period's values per alert. Each branch is cast to decimal(38,10): DuckDB would
# widen decimal(38,4) and decimal(38,10) together to a double.
VALUES = """
open_periods as (
    select
        external_subscription_id,
        any_value(external_customer_id) as external_customer_id,
        any_value(currency) as currency,
        min(period_start) as period_start,
        max(period_end) as period_end,
        max(as_of) as as_of,
        coalesce(sum(amount) filter (where fee_type = 'charge'), 0) as charges_amount
    from billing.current_usage
    group by external_subscription_id
),

-- a metric's amount is all its fees'; its units are one charge's (its buckets and groups added):
-- two charges of a plan on one metric each count the same events
metric_usage as (
    select external_subscription_id, billable_metric_code, sum(amount) as amount, max(units) as units
    from (
        select external_subscription_id, billable_metric_code, charge_id, sum(amount) as amount, sum(units) as units
        from billing.current_usage
        where fee_type = 'charge'
        group by external_subscription_id, billable_metric_code, charge_id
    ) as per_charge
    group by external_subscription_id, billable_metric_code
),

invoiced as (
    {invoiced}
),

alert_values as (
    select
        alerts.external_subscription_id,
        alerts.alert_code,
        alerts.alert_name,
        alerts.alert_type,
        alerts.billable_metric_code,
        open_periods.external_customer_id,
        open_periods.currency,
        open_periods.period_start,
        open_periods.period_end,
        open_periods.as_of,
        case alerts.alert_type
            when 'current_usage_amount' then cast(open_periods.charges_amount as decimal(38, 10))
            when 'billable_metric_current_usage_amount' then cast(metric_usage.amount as decimal(38, 10))
            when 'billable_metric_current_usage_units' then cast(metric_usage.units as decimal(38, 10))
            when 'lifetime_usage_amount' then cast(coalesce(invoiced.amount, 0) as decimal(38, 10))
                + cast(open_periods.charges_amount as decimal(38, 10))
        end as value
    from catalog.alerts as alerts
    inner join open_periods
        on alerts.external_subscription_id = open_periods.external_subscription_id
    left join metric_usage
        on alerts.external_subscription_id = metric_usage.external_subscription_id
        and alerts.billable_metric_code = metric_usage.billable_metric_code
    left join invoiced
        on alerts.external_subscription_id = invoiced.external_subscription_id
)
"""

# Lago's invoiced usage (lifetime_usages/calculate_service.rb): the charge fees of the
# subscription's subscription invoices (not progressive_billing: the closing invoice carries the
# period's full usage). Tally adds its adjustment invoices (the corrections of those fees) and
# stops before the open period, whose closing invoice a refresh may draft and whose
# pay-in-advance fees are invoiced as they happen: current usage is all that period's usage.
INVOICED = """
    select invoices.external_subscription_id, sum(lines.amount) as amount
    from billing.invoice_lines as lines
    inner join billing.invoices as invoices
        on lines.invoice_id = invoices.invoice_id
    inner join open_periods
        on invoices.external_subscription_id = open_periods.external_subscription_id
    where lines.fee_type = 'charge'
        and invoices.invoice_type in ('subscription', 'adjustment')
        and invoices.period_end < open_periods.period_start
    group by invoices.external_subscription_id
"""
NOTHING_INVOICED = "select cast(null as varchar) as external_subscription_id, 0 as amount where false"

# The thresholds at or below the value not fired yet in their scope, with the highest value
# fired at before in that scope. Recurring: k from 1 to floor((value - initial) / step), the
# bound taken in double then checked exactly (decimal division is a double in DuckDB).
NEW_CROSSINGS = """
with {values},

steps as (
    select
        external_subscription_id,
        alert_code,
        coalesce(max(value) filter (where not recurring), 0) as initial
    from catalog.alert_thresholds
    group by external_subscription_id, alert_code
),

reached as (
    select alert_values.*, thresholds.threshold_code, thresholds.value as threshold_value, false as is_recurring
    from alert_values
    inner join catalog.alert_thresholds as thresholds
        on alert_values.external_subscription_id = thresholds.external_subscription_id
        and alert_values.alert_code = thresholds.alert_code
    where not thresholds.recurring
        and thresholds.value <= alert_values.value
    union all
    select
        alert_values.*,
        thresholds.threshold_code,
        cast(steps.initial + multiples.k * thresholds.value as decimal(38, 10)),
        true
    from alert_values
    inner join catalog.alert_thresholds as thresholds
        on alert_values.external_subscription_id = thresholds.external_subscription_id
        and alert_values.alert_code = thresholds.alert_code
        and thresholds.recurring
    inner join steps
        on alert_values.external_subscription_id = steps.external_subscription_id
        and alert_values.alert_code = steps.alert_code
    cross join lateral (
        select unnest(generate_series(
            1, cast(floor((alert_values.value - steps.initial) / thresholds.value) as bigint) + 1)) as k
    ) as multiples
    where steps.initial + multiples.k * thresholds.value <= alert_values.value
),

scoped as (
    select *, case when alert_type = 'lifetime_usage_amount' then null else period_start end as scope
    from reached
),

fired as (
    select
        external_subscription_id, alert_code, alert_type, coalesce(billable_metric_code, '') as metric,
        case when alert_type = 'lifetime_usage_amount' then null else period_start end as scope,
        threshold_value,
        value
    from billing.triggered_alerts
),

previous as (
    select external_subscription_id, alert_code, alert_type, metric, scope, max(value) as previous_value
    from fired
    group by all
)

select
    scoped.alert_code,
    scoped.alert_name,
    scoped.alert_type,
    scoped.external_subscription_id,
    scoped.external_customer_id,
    scoped.billable_metric_code,
    scoped.threshold_code,
    scoped.threshold_value,
    scoped.is_recurring,
    cast(coalesce(previous.previous_value, 0) as decimal(38, 10)) as previous_value,
    scoped.value,
    scoped.as_of,
    scoped.period_start,
    scoped.period_end,
    scoped.currency
from scoped
left join previous
    on scoped.external_subscription_id = previous.external_subscription_id
    and scoped.alert_code = previous.alert_code
    and scoped.alert_type = previous.alert_type
    and coalesce(scoped.billable_metric_code, '') = previous.metric
    and scoped.scope is not distinct from previous.scope
where scoped.value is not null
    and not exists (
        select 1 from fired
        where fired.external_subscription_id = scoped.external_subscription_id
            and fired.alert_code = scoped.alert_code
            and fired.alert_type = scoped.alert_type
            and fired.metric = coalesce(scoped.billable_metric_code, '')
            and fired.scope is not distinct from scoped.scope
            and fired.threshold_value = scoped.threshold_value
    )
order by scoped.external_subscription_id, scoped.alert_code, scoped.threshold_value
"""


def new_crossings(con: duckdb.DuckDBPyConnection) -> list[TriggeredAlert]:
    """The thresholds the current usage crosses that have not fired yet (nothing is written)."""
    if not all(table_exists(con, *t.split(".")) for t in ("billing.current_usage", "catalog.alerts",
                                                       "catalog.alert_thresholds")):
        return []
    con.execute(DDL)
    if table_exists(con, "billing", "invoices") and table_exists(con, "billing", "invoice_lines"):
        invoiced = INVOICED
    else:
        invoiced = NOTHING_INVOICED
    rows = con.execute(NEW_CROSSINGS.format(values=VALUES.format(invoiced=invoiced))).fetchall()
    return [TriggeredAlert(*row, None) for row in rows]


def evaluate(con: duckdb.DuckDBPyConnection, publish_dir: Path | None) -> list[TriggeredAlert]:
    """Fire what the current usage crosses: the rows of billing.triggered_alerts, each naming the
    outbox file that announces it, in one transaction; then that file (when publish_dir is given).
    A transactional outbox: a file named by rows but missing (a crash after the commit) is written
    first, from its rows, so every fired threshold is announced exactly once whatever lands
    between a crash and the retry. Returns the rows fired (none when billing.current_usage or
    the catalog's alerts do not exist yet)."""
    folder = Path(publish_dir) / OUTBOX if publish_dir is not None else None
    if folder is not None:
        _clear_leftovers(folder)
        _write_missing(con, folder)
    fired = new_crossings(con)
    if not fired:
        return []
    if folder is not None:
        name = outbox_name(fired, _files_named(con) + 1)
        fired = [t._replace(outbox_file=name) for t in fired]
    con.execute("begin transaction")
    try:
        con.executemany(f"insert into billing.triggered_alerts values ({', '.join('?' * len(TriggeredAlert._fields))})",
                        [list(t) for t in fired])
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        raise
    if folder is not None:
        write_outbox(folder, fired[0].outbox_file, fired)
    return fired


def _files_named(con: duckdb.DuckDBPyConnection) -> int:
    return con.execute("select count(distinct outbox_file) from billing.triggered_alerts").fetchone()[0]


def _write_missing(con: duckdb.DuckDBPyConnection, folder: Path) -> None:
    """The outbox files the table names but the folder lacks, written again from their rows."""
    if not table_exists(con, "billing", "triggered_alerts"):
        return
    for (name,) in con.execute("select distinct outbox_file from billing.triggered_alerts "
                               "where outbox_file is not null order by 1").fetchall():
        if not (folder / name).exists():
            rows = con.execute("select * from billing.triggered_alerts where outbox_file = ? "
                               "order by external_subscription_id, alert_code, threshold_value", [name]).fetchall()
            write_outbox(folder, name, [TriggeredAlert(*row) for row in rows])


# ---------------------------------------------------------------- the outbox


def _lago_decimal(value: Decimal) -> str:
    """A decimal as Lago's JSON writes a BigDecimal: plain digits, at least one decimal ("1200.0")."""
    text = format(value.normalize(), "f")
    return text if "." in text else f"{text}.0"


def _lago_units(t: TriggeredAlert, value: Decimal) -> Decimal:
    """Lago compares amount alerts in cents (amount_cents): the currency's minor units."""
    return value.scaleb(minor_unit(t.currency)) if t.alert_type in AMOUNT_TYPES else value


def webhook(thresholds: list[TriggeredAlert]) -> dict:
    """Lago's `alert.triggered` webhook body (webhooks/usage_monitoring/alert_triggered_service.rb,
    V1::UsageMonitoring::TriggeredAlertSerializer, keys in its order) for the thresholds one alert
    crossed in one evaluation. Tally has no Lago objects: lago_id is a UUID of the trigger (stable
    across re-runs, for the relay to deduplicate on), the other lago_* ids are null."""
    first = thresholds[0]
    scope = "lifetime" if first.alert_type == LIFETIME else str(first.period_start)
    values = ",".join(_lago_decimal(t.threshold_value) for t in thresholds)
    key = f"{first.external_subscription_id}|{first.alert_code}|{first.alert_type}|{scope}|{values}"
    return {
        "webhook_type": "alert.triggered",
        "object_type": "triggered_alert",
        "triggered_alert": {
            "lago_id": str(uuid.uuid5(TRIGGER_NAMESPACE, key)),
            "lago_organization_id": None,
            "lago_alert_id": None,
            "lago_subscription_id": None,
            "external_subscription_id": first.external_subscription_id,
            "lago_wallet_id": None,
            "external_customer_id": first.external_customer_id,
            "billable_metric_code": first.billable_metric_code,
            "alert_name": first.alert_name,
            "alert_code": first.alert_code,
            "alert_type": first.alert_type,
            "current_value": _lago_decimal(_lago_units(first, first.value)),
            "previous_value": _lago_decimal(_lago_units(first, first.previous_value)),
            "crossed_thresholds": [
                {"code": t.threshold_code, "value": _lago_decimal(_lago_units(t, t.threshold_value)),
                 "recurring": t.is_recurring}
                for t in thresholds
            ],
            "triggered_at": first.crossed_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "subscription_external_id": first.external_subscription_id,  # Lago's deprecated names
            "customer_external_id": first.external_customer_id,
        },
    }


def outbox_lines(fired: list[TriggeredAlert]) -> bytes:
    """One JSON line per alert that fired (fired is ordered by subscription, alert, value)."""
    lines, group = [], []
    for t in fired:
        if group and (group[0].external_subscription_id, group[0].alert_code) != (t.external_subscription_id,
                                                                                  t.alert_code):
            lines.append(group)
            group = []
        group.append(t)
    lines.append(group)
    return b"".join(json.dumps(webhook(g), separators=(",", ":")).encode() + b"\n" for g in lines)


def outbox_name(fired: list[TriggeredAlert], sequence: int) -> str:
    """<sequence>-<as_of>-<content hash>.jsonl: the sequence (the files named before + 1) sorts
    the files in the order they were fired, whatever their as_of; the same rows, fired after the
    same files, always get the same name."""
    as_of = max(t.crossed_at for t in fired)
    digest = hashlib.sha256(outbox_lines(fired)).hexdigest()[:16]
    return f"{sequence:08d}-{as_of:%Y%m%dT%H%M%S}-{digest}.jsonl"


def write_outbox(folder: Path, name: str, fired: list[TriggeredAlert]) -> None:
    """The evaluation's lines as the file `name`, whole (a hidden temporary file renamed in)."""
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / f".{name}.tmp"
    with tmp.open("wb") as fh:
        fh.write(outbox_lines(fired))
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, folder / name)


def _clear_leftovers(folder: Path) -> None:
    """Temporary files a killed evaluation left (runs are serialized by the warehouse lock)."""
    if folder.is_dir():
        for leftover in folder.glob(".*.tmp"):
            leftover.unlink(missing_ok=True)
