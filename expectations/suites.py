"""The Great Expectations suites that guard publishing (SPEC §6).

Each suite names the dbt model it guards (its Dagster asset check hangs on that asset), the
query whose rows it validates and its expectations. Expectations are (GX class name, kwargs)
pairs so that loading the Dagster definitions does not import GX (a 5 s import); `gate.py`
builds them. Money gaps are computed in SQL, exactly, so the expectations compare to 0.
"""
from __future__ import annotations

from dataclasses import dataclass

from orchestration.lib.money import MINOR_UNITS


@dataclass(frozen=True)
class Suite:
    name: str
    model: str
    query: str  # {billing_from} and {billing_to} are the run's window (dates, ISO)
    expectations: tuple[tuple[str, dict], ...]
    # what finance reads in the Dagster UI: the check's name and what it means
    check_name: str = ""
    description: str = ""


RAW_EVENT_COLUMNS = ["source_file", "event_day", "events", "missing_transaction_ids", "missing_codes",
                     "missing_subscribers", "first_event_at", "last_event_at"]

# The events of the run's window that passed landing, counted per file and UTC day in SQL (a
# frame that grows with files and days, never with events): a missing field or an implausible
# timestamp here means the quarantine rules let something through.
RAW_EVENTS = Suite(
    name="raw_events",
    model="stg_events",
    check_name="events_are_billable",
    description="Every event billed in the months has an id, a metric code, a subscriber and a time "
                "between 2000 and 2100; anything else was quarantined with its reason.",
    query="""
        select source_file, cast(event_at as date) as event_day, count(*) as events,
               count(*) - count(transaction_id) as missing_transaction_ids,
               count(*) - count(billable_metric_code) as missing_codes,
               count(*) - count(coalesce(external_subscription_id, external_customer_id)) as missing_subscribers,
               min(event_at) as first_event_at, max(event_at) as last_event_at
        from staging.stg_events
        where rejection_reason is null
          and event_at >= timestamp '{billing_from}' and event_at < timestamp '{billing_to}'
        group by 1, 2
        order by 1, 2
    """,
    expectations=(
        ("ExpectTableColumnsToMatchSet", {"column_set": RAW_EVENT_COLUMNS, "exact_match": True}),
        ("ExpectColumnValuesToBeBetween", {"column": "missing_transaction_ids", "min_value": 0, "max_value": 0}),
        ("ExpectColumnValuesToBeBetween", {"column": "missing_codes", "min_value": 0, "max_value": 0}),
        ("ExpectColumnValuesToBeBetween", {"column": "missing_subscribers", "min_value": 0, "max_value": 0}),
        ("ExpectColumnValuesToBeBetween", {"column": "first_event_at", "min_value": "2000-01-01T00:00:00",
                                           "max_value": "2100-01-01T00:00:00"}),
        ("ExpectColumnValuesToBeBetween", {"column": "last_event_at", "min_value": "2000-01-01T00:00:00",
                                           "max_value": "2100-01-01T00:00:00"}),
    ),
)

# The meters of the window's periods, summed up per metric, charge and period end in SQL (a
# frame that grows with the catalog, not with customers): the lowest units and events of each.
# A meter below zero (a producer sending negative values into a sum) is billed as a zero fee
# by Lago's rules, but it is never what finance expects to publish. Daily usage is not
# checked row by row: weighted-sum events are deltas of a level and may be negative.
USAGE = Suite(
    name="usage",
    model="int_usage_by_period",
    check_name="usage_is_consistent",
    description="Every meter of the months' periods has its customer and metric, and no meter's units or "
                "event count is below zero.",
    query="""
        select billable_metric_code, charge_id, period_end, count(*) as meters,
               count(*) - count(external_customer_id) as missing_customers,
               min(events_count) as events_count, cast(min(units) as double) as units
        from intermediate.int_usage_by_period
        where period_end >= date '{billing_from}' and period_end < date '{billing_to}'
        group by 1, 2, 3
        order by 1, 2, 3
    """,
    expectations=(
        ("ExpectColumnValuesToNotBeNull", {"column": "billable_metric_code"}),
        ("ExpectColumnValuesToBeBetween", {"column": "missing_customers", "min_value": 0, "max_value": 0}),
        ("ExpectColumnValuesToBeBetween", {"column": "events_count", "min_value": 0}),
        ("ExpectColumnValuesToBeBetween", {"column": "units", "min_value": 0}),
    ),
)

# The invoices of the window per currency and invoice type, in SQL: each column adds up in
# Lago's order (the largest gap of any invoice is 0), lines add up to fees, invoice ids are
# unique, currencies are ISO 4217 codes, no total is negative (the lowest is >= 0).
INVOICES = Suite(
    name="invoices",
    model="fct_invoices",
    check_name="invoices_add_up",
    description="Invoice ids are unique, currencies are known, lines add up to fees, every amount follows "
                "from fees, credits, coupons and taxes to the cent, and no total is negative.",
    query="""
        with lines as (
            select invoice_id, sum(amount) as lines_amount from marts.fct_invoice_lines group by 1
        ),
        gaps as (
            select i.invoice_id, i.currency, i.invoice_type, i.total_amount,
                   abs(i.fees_amount - i.progressive_billing_credit_amount - i.coupons_amount
                       - i.sub_total_excluding_taxes) as excluding_taxes_gap,
                   abs(i.sub_total_excluding_taxes + i.taxes_amount - i.sub_total_including_taxes)
                       as including_taxes_gap,
                   abs(i.sub_total_including_taxes - i.credit_notes_amount - i.prepaid_credit_amount
                       - i.total_amount) as total_gap,
                   abs(coalesce(lines.lines_amount, 0) - i.fees_amount) as lines_gap
            from marts.fct_invoices as i
            left join lines on i.invoice_id = lines.invoice_id
        )
        select currency, invoice_type, count(*) as invoices,
               count(*) - count(distinct invoice_id) as repeated_invoice_ids,
               cast(min(total_amount) as double) as total_amount,
               cast(max(excluding_taxes_gap) as double) as excluding_taxes_gap,
               cast(max(including_taxes_gap) as double) as including_taxes_gap,
               cast(max(total_gap) as double) as total_gap,
               cast(max(lines_gap) as double) as lines_gap
        from gaps
        group by 1, 2
        order by 1, 2
    """,
    expectations=(
        ("ExpectColumnValuesToBeBetween", {"column": "repeated_invoice_ids", "min_value": 0, "max_value": 0}),
        ("ExpectColumnValuesToBeInSet", {"column": "currency", "value_set": sorted(MINOR_UNITS)}),
        ("ExpectColumnValuesToBeBetween", {"column": "total_amount", "min_value": 0}),
        ("ExpectColumnValuesToBeBetween", {"column": "excluding_taxes_gap", "min_value": 0, "max_value": 0}),
        ("ExpectColumnValuesToBeBetween", {"column": "including_taxes_gap", "min_value": 0, "max_value": 0}),
        ("ExpectColumnValuesToBeBetween", {"column": "total_gap", "min_value": 0, "max_value": 0}),
        ("ExpectColumnValuesToBeBetween", {"column": "lines_gap", "min_value": 0, "max_value": 0}),
    ),
)

SUITES = (RAW_EVENTS, USAGE, INVOICES)
