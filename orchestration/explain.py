"""`tally explain LINE_ID`: how one published invoice line was computed, from the warehouse
(read-only): the events behind it (billing.invoice_line_events), the aggregation, the prices
applied (tiers of billing.fee_tiers, package, percentage...), the rounding, and how the line
reaches its invoice's total. `explain` builds it as data, `render` as text."""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import NamedTuple

import duckdb

from orchestration.lib.warehouse import table_exists
from orchestration.line_events import VIEW, events_sql


class UnknownLine(Exception):
    """No published line has this id (or there is no published warehouse)."""


class Event(NamedTuple):
    event_at: datetime
    source_file: str
    line_number: int
    transaction_id: str | None
    value: Decimal | None
    field_value: str | None
    operation_type: str | None
    is_carried: bool
    arrived_late: bool


class Tier(NamedTuple):
    tier_index: int
    from_value: Decimal
    to_value: Decimal | None
    units: Decimal
    per_unit_amount: Decimal
    rate: Decimal
    flat_amount: Decimal
    amount: Decimal


@dataclass
class Explanation:
    line: dict
    invoice: dict
    customer_name: str | None
    charge: dict | None          # stg_charges + the metric, for charge lines
    bucket: dict | None          # the price bucket's properties (stg_charge_buckets)
    events: list[Event]          # the first N, in time order
    events_total: int
    events_late: int             # an adjustment's events that landed after its invoice was frozen
    minor_unit: int
    aggregation: list[str] = field(default_factory=list)
    pricing: list[str] = field(default_factory=list)
    tiers: list[Tier] = field(default_factory=list)
    precise_amount: Decimal | None = None
    totals: list[tuple[str, Decimal, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def rounded_amount(self) -> Decimal | None:
        return None if self.precise_amount is None else round_money(self.precise_amount, self.minor_unit)


def round_money(amount: Decimal, minor_unit: int) -> Decimal:
    """Half away from zero to the currency's minor unit, as every fee (ROUND_HALF_UP is away from zero)."""
    return amount.quantize(Decimal(1).scaleb(-minor_unit), rounding=ROUND_HALF_UP)


def num(value: Decimal | int | None) -> str:
    if value is None:
        return "-"
    d = Decimal(value)
    text = format(d.normalize(), "f") if d != 0 else "0"
    return text


def money(value: Decimal | None, minor_unit: int) -> str:
    if value is None:
        return "-"
    return f"{round_money(Decimal(value), minor_unit) + 0:f}"  # + 0: no "-0.00"


def _rows(con, sql: str, params=()) -> list[dict]:
    cur = con.execute(sql, list(params))
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r)) for r in cur.fetchall()]


def _one(con, sql: str, params=()) -> dict | None:
    found = _rows(con, sql, params)
    return found[0] if found else None


def _events_source(con) -> str:
    """The view, or (a warehouse published before it existed) its query over what is landed."""
    if table_exists(con, "billing", VIEW.split(".")[1]):
        return VIEW
    landed = con.execute("select coalesce(max(load_sequence), 0) from raw.landing_files").fetchone()[0]
    return f"({events_sql(landed)})"


# --- building --------------------------------------------------------------------------------

def explain(con: duckdb.DuckDBPyConnection, line_id: str, first_events: int = 10) -> Explanation:
    if not table_exists(con, "billing", "invoice_lines"):
        raise UnknownLine("nothing is published in this warehouse: run `tally run` first")
    line = _one(con, "select * from billing.invoice_lines where line_id = ?", [line_id])
    if line is None:
        raise UnknownLine(f"no published invoice line has the id {line_id!r} (see billing.invoice_lines.line_id)")
    invoice = _one(con, "select * from billing.invoices where invoice_id = ?", [line["invoice_id"]])
    customer = _one(con, "select name from catalog.customers where external_id = ?", [invoice["external_customer_id"]])
    minor = _one(con, "select minor_unit from reference.currencies where currency = ?", [line["currency"]])
    charge = bucket = None
    if line["charge_id"] is not None:
        charge = _one(con, "select c.*, m.aggregation_type, m.field_name, m.is_recurring, m.rounding_function, "
                           "m.rounding_precision from staging.stg_charges c left join staging.stg_billable_metrics m "
                           "on c.billable_metric_code = m.billable_metric_code where c.charge_id = ?",
                      [line["charge_id"]])
    source = _events_source(con)
    order = "order by event_at, source_file, line_number"
    events_total, events_late, filter_index = 0, 0, None
    events: list[Event] = []
    if line["fee_type"] == "charge":
        events_total, events_late, filter_index = con.execute(
            f"select count(*), count_if(arrived_late), min(filter_index) from {source} where line_id = ?",
            [line_id]).fetchone()
        events = [Event(*r) for r in con.execute(
            f"select event_at, source_file, line_number, transaction_id, value, field_value, operation_type, "
            f"is_carried, arrived_late from {source} where line_id = ? {order} limit ?",
            [line_id, first_events]).fetchall()]
    if charge is not None:
        bucket = _one(con, "select * from staging.stg_charge_buckets where charge_id = ? and filter_index = ?",
                      [line["charge_id"], filter_index if filter_index is not None else _bucket_of(line)])
    ex = Explanation(line, invoice, customer and customer["name"], charge, bucket, events, events_total,
                     events_late, minor["minor_unit"] if minor else 2)
    ex.tiers = [Tier(*r) for r in con.execute(
        "select tier_index, from_value, to_value, units, per_unit_amount, rate, flat_amount, amount "
        "from billing.fee_tiers where line_id = ? order by tier_index", [line_id]).fetchall()]
    _price(con, ex, source)
    _totals(con, ex)
    return ex


def _bucket_of(line: dict) -> int | None:
    """The price bucket in a usage line's id `<invoice>:<charge>:<bucket>[:<group>]`."""
    prefix = f"{line['invoice_id']}:{line['charge_id']}:"
    rest = line["line_id"][len(prefix):] if line["line_id"].startswith(prefix) else ""
    head = rest.split(":", 1)[0]
    return int(head) if head.isdigit() else None


def _period_index(con, invoice_id: str) -> int | None:
    found = _one(con, "select period_index from intermediate.int_invoices where invoice_id = ?", [invoice_id])
    return found and found["period_index"]


def _price(con, ex: Explanation, source: str) -> None:
    line, invoice = ex.line, ex.invoice
    fee_type, line_id = line["fee_type"], line["line_id"]
    if invoice["invoice_type"] == "adjustment":
        _price_adjustment(con, ex, source)
        return
    if fee_type == "subscription":
        start = date(*map(int, (line_id[-8:-4], line_id[-4:-2], line_id[-2:])))
        period = _one(con, "select plan_amount, fee_days, full_period_days, period_start, period_end "
                           "from intermediate.int_billing_periods where external_subscription_id = ? "
                           "and period_start = ?", [invoice["external_subscription_id"], start])
        if period:
            ex.precise_amount = period["plan_amount"] * period["fee_days"] / Decimal(period["full_period_days"])
            ex.pricing.append(f"subscription fee: plan amount {num(period['plan_amount'])} × {period['fee_days']} "
                              f"fee days / {period['full_period_days']} days of the full period "
                              f"(service period {period['period_start']} to {period['period_end']}; trial days "
                              f"are free) = {num(ex.precise_amount)}")
    elif fee_type == "commitment":
        found = _one(con, "select * from intermediate.int_commitment_fees where external_subscription_id = ? "
                          "and period_index = ?",
                     [invoice["external_subscription_id"], _period_index(con, invoice["invoice_id"])])
        if found:
            ex.precise_amount = found["precise_amount"]
            ex.pricing.append(f"minimum commitment {num(found['commitment_amount'])} (prorated by days) − the "
                              f"period's fees {num(found['fees_amount'])} = {num(found['precise_amount'])}")
    elif fee_type == "charge" and line_id.endswith(":true_up"):
        found = _one(con, "select * from intermediate.int_charge_true_ups where external_subscription_id = ? "
                          "and period_index = ? and charge_id = ?",
                     [invoice["external_subscription_id"], _period_index(con, invoice["invoice_id"]),
                      line["charge_id"]])
        if found:
            ex.precise_amount = found["precise_amount"]
            ex.pricing.append(f"minimum spend (min_amount) {num(found['prorated_min_amount'])} (prorated by days) − "
                              f"the charge's fees {num(found['fees_amount'])} = {num(found['precise_amount'])}")
    elif fee_type == "charge" and _instant(con, ex):
        pass
    elif fee_type == "charge" and ex.bucket is not None:
        _aggregation(ex, line["units"], line["full_units"], line["events_count"])
        if invoice["invoice_type"] == "progressive_billing":
            cut = _one(con, "select issued_at from intermediate.int_invoices where invoice_id = ?",
                       [line["invoice_id"]])
            ex.aggregation.append("progressive billing: usage from the period start through the event that crossed "
                                  f"the threshold{' at ' + str(cut['issued_at']) if cut else ''} (events at that "
                                  "instant included)")
        ex.precise_amount = _charge_amount(con, ex, source, line_id, line["units"], line["full_units"],
                                           line["events_count"])
    if ex.precise_amount is None and not ex.tiers:
        # fixed charges, add-ons, credits and anything the formulas above do not cover
        ex.precise_amount = line["units"] * line["unit_amount"]
        ex.pricing.append(f"{num(line['units'])} units × unit amount {num(line['unit_amount'])} = "
                          f"{num(ex.precise_amount)}")
    elif ex.precise_amount is None:
        ex.precise_amount = _tier_amount(ex)
    if ex.rounded_amount != line["amount"]:
        ex.notes.append(f"the published amount is {money(line['amount'], ex.minor_unit)}: the catalog (prices) "
                        "changed since the line was billed, or the line is frozen (finalized)")


def _instant(con, ex: Explanation) -> bool:
    """A pay-in-advance (instant) fee: billed when its event arrived, as billing.instant_fees records."""
    fee = _one(con, "select sum(units) as units, sum(precise_amount) as precise_amount, min(event_at) as event_at "
                    "from billing.instant_fees where line_id = ? having count(*) > 0", [ex.line["line_id"]])
    if fee is None:
        return False
    ex.precise_amount = fee["precise_amount"]
    what = f"the event at {fee['event_at']}" if fee["event_at"] else "the period's opening units (recurring metric)"
    ex.pricing.append(f"pay in advance ({ex.charge['charge_model']}): the fee of {what} = price after it − price "
                      f"before it, for {num(fee['units'])} units = {num(fee['precise_amount'])} "
                      "(billing.instant_fees)")
    return True


def _aggregation(ex: Explanation, units: Decimal, full_units: Decimal, events_count: int) -> None:
    charge = ex.charge
    what = {"count_agg": "the number of events", "sum_agg": f"Σ {charge['field_name']}",
            "max_agg": f"the largest {charge['field_name']}", "latest_agg": f"the last {charge['field_name']}",
            "unique_count_agg": f"distinct {charge['field_name']} added and not removed",
            "weighted_sum_agg": f"{charge['field_name']} weighted by the time it held (÷ full period)"}
    agg = charge["aggregation_type"]
    recurring = " (recurring: every event since the subscription started counts)" if charge["is_recurring"] else ""
    ex.aggregation.append(f"{agg}: {what.get(agg, agg)} over {events_count} events{recurring} = "
                          f"{num(full_units)} units")
    if charge["rounding_function"]:
        ex.aggregation.append(f"metric rounding: {charge['rounding_function']} to {charge['rounding_precision']} "
                              "decimals")
    if units != full_units:
        ex.aggregation.append(f"prorated: {num(units)} of {num(full_units)} units (each unit's share of the period)")


def _tier_amount(ex: Explanation) -> Decimal:
    return sum((t.amount for t in ex.tiers), Decimal(0))


def _charge_amount(con, ex: Explanation, source: str, line_id: str, units: Decimal, full_units: Decimal,
                   events_count: int) -> Decimal | None:
    model, b = ex.charge["charge_model"], ex.bucket
    if model == "standard":
        amount = units * b["amount"]
        ex.pricing.append(f"standard: {num(units)} units × {num(b['amount'])} = {num(amount)}")
        return amount
    if model == "package":
        free, size = b["free_units"] or Decimal(0), b["package_size"]
        if units - free <= 0:
            ex.pricing.append(f"package: {num(units)} units within {num(free)} free units = 0")
            return Decimal(0)
        packages = math.ceil((units - free) / Decimal(size))
        amount = packages * b["amount"]
        ex.pricing.append(f"package: ceil(({num(units)} units − {num(free)} free units) / {size} per package) = "
                          f"{packages} packages × {num(b['amount'])} = {num(amount)}")
        return amount
    if model in ("graduated", "volume", "graduated_percentage"):
        ex.pricing.append(f"{model}: the tiers entered (billing.fee_tiers), each units × "
                          f"{'rate %' if model == 'graduated_percentage' else 'per unit'} + flat amount")
        return _tier_amount(ex) if ex.tiers else None
    if model == "percentage":
        return _percentage(con, ex, source, line_id, units, events_count)
    return None


def _percentage(con, ex: Explanation, source: str, line_id: str, units: Decimal, events_count: int) -> Decimal:
    """Lago's percentage_service, as macros/charge_models/percentage.sql: the rate on the units
    past the free units, a fixed fee per paying event, or each event priced alone within a
    per-transaction min/max."""
    b = ex.bucket
    rate, fixed = b["rate"], b["fixed_amount"] or Decimal(0)
    free_events, free_total = int(b["free_units_per_events"] or 0), b["free_units_per_total_aggregation"] or Decimal(0)
    lo, hi = b["per_transaction_min_amount"], b["per_transaction_max_amount"]
    limits = ("no per-transaction min or max" if lo is None and hi is None
              else f"per-transaction min {num(lo)}, max {num(hi)}")
    ex.pricing.append(f"percentage: rate {num(rate)} %, fixed fee {num(fixed)} per transaction, free units per "
                      f"events {free_events}, free units per total {num(free_total)}, {limits}")
    rows = con.execute(f"select coalesce(value, 1), is_carried from {source} where line_id = ? "
                       "order by event_at, source_file, line_number", [line_id]).fetchall()
    if lo is not None or hi is not None:
        amount, running, rank = Decimal(0), Decimal(0), 0
        for value, carried in rows:
            if carried:
                continue
            rank += 1
            running += value
            if free_total > 0:
                charged = None if running < free_total else min(value, running - free_total)
            elif free_events > 0 and rank <= free_events:
                charged = None
            else:
                charged = value
            if charged is None:
                continue
            one = charged * rate / 100 + fixed
            amount += max(lo, one) if lo is not None and one < lo else min(hi, one) if hi is not None and one > hi \
                else one
        ex.pricing.append(f"each transaction alone: value × {num(rate)} % + {num(fixed)}, within [min, max], the "
                          f"free ones first = {num(amount)}")
        return amount
    if ex.charge["aggregation_type"] in ("count_agg", "unique_count_agg"):
        whole = math.floor(units)
        if whole <= 0 or (free_events == 0 and free_total == 0):
            free_value = Decimal(0)
        elif 0 < free_events < whole:
            free_value = Decimal(free_events)
        elif free_total == 0 or whole <= free_total:
            free_value = Decimal(whole)
        else:
            free_value = free_total
        running_free = 0 if free_total <= 0 or whole <= 0 else min(whole, math.ceil(free_total) - 1)
    else:
        # the free running totals: the first free_units_per_events events, else the events until
        # one finds the total before it above free_units_per_total_aggregation
        total, highest, last, running_free = Decimal(0), Decimal(0), None, 0
        for rank, (value, _carried) in enumerate(rows, start=1):
            before = highest
            total += value
            highest = max(highest, total) if rank > 1 else total
            free = (free_events > 0 and rank <= free_events) or (free_events == 0 and free_total > 0
                                                                and (rank == 1 or before <= free_total))
            if not free:
                break
            last = total
            running_free += 1 if total < free_total else 0
        if not last:
            free_value = Decimal(0)
        elif free_total == 0 or last <= free_total:
            free_value = last
        else:
            free_value = free_total
    paid_free = (min(free_events, running_free) if free_events > 0 and running_free > 0
                 else free_events if free_events > 0 else running_free)
    on_rate = Decimal(0) if free_value > units else (units - free_value) * rate / 100
    on_fixed = (Decimal(0) if units == 0 or fixed == 0 or paid_free >= events_count
                else (events_count - paid_free) * fixed)
    ex.pricing.append(f"({num(units)} units − {num(free_value)} free units) × {num(rate)} % = {num(on_rate)}")
    ex.pricing.append(f"({events_count} events − {paid_free} free events) × fixed fee {num(fixed)} = {num(on_fixed)}")
    return on_rate + on_fixed


def _price_adjustment(con, ex: Explanation, source: str) -> None:
    """An adjustment line is the difference between the adjusted line as rated now and what its
    frozen invoice and earlier adjustment rounds billed."""
    line, invoice = ex.line, ex.invoice
    base_line_id = line["line_id"].rsplit(":", 1)[0]
    rounds = _rows(con, "select line_id, invoice_id, units, full_units, events_count, amount "
                        "from billing.invoice_lines where line_id = ? or (line_id like ? and line_id <= ?) "
                        "order by line_id",
                   [base_line_id, base_line_id + ":adj%", line["line_id"]])
    before = [r for r in rounds if r["line_id"] != line["line_id"]]
    units = sum((r["units"] for r in rounds), Decimal(0))
    full_units = sum((r["full_units"] for r in rounds), Decimal(0))
    events_count = sum(r["events_count"] for r in rounds)
    billed = sum((r["amount"] for r in before), Decimal(0))
    late = ex.events_late
    ex.pricing.append(f"adjusts line {base_line_id} of invoice {invoice['adjusts_invoice_id']} "
                      f"({invoice['adjustment_reason']}); events marked late landed after it was frozen")
    for r in before:
        ex.pricing.append(f"  billed on {r['invoice_id']}: {num(r['units'])} units, {r['events_count']} events, "
                          f"{money(r['amount'], ex.minor_unit)}")
    ex.pricing.append(f"  rated now: {num(units)} units, {events_count} events")
    now = None
    if ex.bucket is not None and ex.charge is not None:
        ex.tiers = [Tier(*r) for r in con.execute(
            "select tier_index, from_value, to_value, units, per_unit_amount, rate, flat_amount, amount "
            "from intermediate.int_fee_tiers_rated where line_id = ? order by tier_index", [base_line_id]).fetchall()] \
            if _has_column(con, "intermediate", "int_fee_tiers_rated", "line_id") else []
        _aggregation(ex, units, full_units, events_count)
        now = _charge_amount(con, ex, source, line["line_id"], units, full_units, events_count)
    if now is None:
        rated = _one(con, "select precise_amount from intermediate.int_invoice_lines where line_id = ?",
                     [base_line_id]) if table_exists(con, "intermediate", "int_invoice_lines") else None
        now = rated and rated["precise_amount"]
    if now is None:
        ex.precise_amount = line["amount"]
        return
    rounded_now = round_money(now, ex.minor_unit)
    ex.pricing.append(f"difference: rated now {num(now)} → {money(rounded_now, ex.minor_unit)} − billed before "
                      f"{money(billed, ex.minor_unit)} = {money(rounded_now - billed, ex.minor_unit)} "
                      f"({late} event{'s' * (late != 1)} landed late)")
    ex.precise_amount = rounded_now - billed


def _has_column(con, schema: str, table: str, column: str) -> bool:
    return con.execute("select count(*) from information_schema.columns where table_schema = ? and table_name = ? "
                       "and column_name = ?", [schema, table, column]).fetchone()[0] > 0


def _totals(con, ex: Explanation) -> None:
    inv, line, m = ex.invoice, ex.line, ex.minor_unit
    coupons = _rows(con, "select coupon_code, amount from intermediate.int_invoice_coupons where invoice_id = ? "
                         "order by coupon_rank", [inv["invoice_id"]]) \
        if table_exists(con, "intermediate", "int_invoice_coupons") else []
    tax = _one(con, "select precise_credits_amount, taxable_amount, tax_rate from intermediate.int_invoice_line_taxes "
                    "where line_id = ?", [line["line_id"]]) \
        if table_exists(con, "intermediate", "int_invoice_line_taxes") else None
    issued = _rows(con, "select credit_note_id, reason, total_amount from billing.credit_notes where invoice_id = ? "
                        "order by credit_note_id", [inv["invoice_id"]])
    wallets = _rows(con, "select wallet_id, amount from billing.wallet_ledger where invoice_id = ? "
                         "and entry_type = 'consumed' order by wallet_id", [inv["invoice_id"]]) \
        if table_exists(con, "billing", "wallet_ledger") else []
    line_tax = f"this line {money(line['taxes_amount'], m)}"
    if tax is not None:
        line_tax += (f": ({money(line['amount'], m)} − {num(tax['precise_credits_amount'])} of credit and coupons) "
                     f"× {num(tax['tax_rate'])} %")
    ex.totals = [
        ("fees", inv["fees_amount"], f"this line {money(line['amount'], m)}"),
        ("progressive billing credit", -inv["progressive_billing_credit_amount"],
         "what the period's progressive invoices already billed" if inv["progressive_billing_credit_amount"] else ""),
        ("coupons", -inv["coupons_amount"], ", ".join(f"{c['coupon_code']} {money(c['amount'], m)}" for c in coupons)),
        ("sub-total excluding taxes", inv["sub_total_excluding_taxes"], ""),
        ("taxes", inv["taxes_amount"], line_tax),
        ("sub-total including taxes", inv["sub_total_including_taxes"], ""),
        ("credit notes", -inv["credit_notes_amount"], ""),
        ("prepaid credits", -inv["prepaid_credit_amount"],
         ", ".join(f"{w['wallet_id']} {money(abs(w['amount']), m)}" for w in wallets)),
        ("total", inv["total_amount"], ""),
    ]
    for note in issued:
        ex.notes.append(f"credit note {note['credit_note_id']} ({note['reason']}) gives back "
                        f"{money(note['total_amount'], m)} of this invoice")


# --- rendering -------------------------------------------------------------------------------

def render(ex: Explanation) -> str:
    line, inv, m = ex.line, ex.invoice, ex.minor_unit
    out = [f"Line {line['line_id']}"]
    out.append(f"  invoice       {inv['invoice_id']} ({inv['invoice_type']}, {inv['status']}), issued "
               f"{inv['issuing_date']}, {inv['currency']}")
    customer = inv["external_customer_id"] + (f" ({ex.customer_name})" if ex.customer_name else "")
    out.append(f"  customer      {customer}")
    if inv["external_subscription_id"]:
        out.append(f"  subscription  {inv['external_subscription_id']}, period {inv['period_start']} to "
                   f"{inv['period_end']}")
    fee = f"  fee           {line['fee_type']}"
    if ex.charge:
        c = ex.charge
        fee += (f": charge {c['charge_id']}, model {c['charge_model']}, metric {c['billable_metric_code']}, "
                f"aggregation {c['aggregation_type']}")
        if ex.bucket is not None:
            fee += f", price bucket {ex.bucket['filter_index']}"
    out.append(fee)
    out.append(f"  units         {num(line['units'])} (full units {num(line['full_units'])}), "
               f"events {line['events_count']}")
    if line["fee_type"] == "charge":
        out.append("")
        shown = len(ex.events)
        out.append(f"Events: {ex.events_total}" + (f" (the first {shown})" if shown < ex.events_total else ""))
        if ex.events:
            out.append(f"  {'event_at':<19}  {'source_file':<20} {'line':>6}  {'transaction_id':<20} value")
        for e in ex.events:
            value = num(e.value) if e.value is not None else ""
            if e.field_value is not None:
                value = f"{e.field_value} {e.operation_type or ''}".strip()
            flags = (" carried" if e.is_carried else "") + (" late" if e.arrived_late else "")
            out.append(f"  {e.event_at:%Y-%m-%d %H:%M:%S}  {e.source_file:<20} {e.line_number:>6}  "
                       f"{e.transaction_id or '':<20} {value}{flags}")
        if shown < ex.events_total:
            out.append(f"  ... {ex.events_total - shown} more (billing.invoice_line_events where line_id = "
                       f"'{line['line_id']}')")
    if ex.aggregation:
        out.append("")
        out.append("Aggregation")
        out.extend(f"  {a}" for a in ex.aggregation)
    out.append("")
    out.append("Pricing")
    out.extend(f"  {p}" for p in ex.pricing)
    if ex.tiers:
        price = "rate %" if any(t.rate for t in ex.tiers) else "per unit"
        out.append(f"  {'tier':>4}  {'from':>12}  {'to':>12}  {'units':>12}  {price:>10}  {'flat':>8}  amount")
        for t in ex.tiers:
            each = t.rate if price == "rate %" else t.per_unit_amount
            upper = num(t.to_value) if t.to_value is not None else "∞"
            out.append(f"  {t.tier_index:>4}  {num(t.from_value):>12}  {upper:>12}  {num(t.units):>12}  "
                       f"{num(each):>10}  {num(t.flat_amount):>8}  {num(t.amount)}")
        out.append(f"  Σ tier amounts = {num(sum((t.amount for t in ex.tiers), Decimal(0)))}")
    out.append(f"  unrounded amount  {num(ex.precise_amount)}")
    out.append(f"  rounded amount    {money(ex.rounded_amount, m)} ({inv['currency']}, {m} decimals, half away "
               "from zero)")
    out.append("")
    out.append(f"Invoice {inv['invoice_id']}")
    for label, amount, note in ex.totals:
        out.append(f"  {label:<27} {money(amount, m):>14}" + (f"   {note}" if note else ""))
    for note in ex.notes:
        out.append(f"Note: {note}")
    return "\n".join(out) + "\n"


def explain_text(warehouse: Path, line_id: str, first_events: int = 10) -> str:
    if not Path(warehouse).exists():
        raise UnknownLine(f"warehouse {warehouse} does not exist: run `tally run` first")
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return render(explain(con, line_id, first_events))
