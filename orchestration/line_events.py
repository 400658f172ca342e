"""`billing.invoice_line_events`: the events behind every published invoice line, as a view
analysts can query (one row per line and event). Publishing (re)creates it in its transaction.

Which events are behind a line (the ones its meter counted, so that a usage line's row count is
its `events_count`):
- a usage charge line: its subscription, charge, price bucket and pricing group, local days in
  the invoice's period (local days and periods share the customer's timezone); a recurring
  metric whose aggregation carries its count (sum, unique count: Lago's store drops the period's
  lower bound) also every earlier event of the subscription; a recurring weighted sum only the
  period's (only its level is carried);
- a progressive-billing line: the same, up to the event that crossed the threshold (events at
  its instant included), as int_progressive_fees bills it;
- an instant (pay-in-advance) line: the event of its fee in billing.instant_fees (a recurring
  metric's opening fee has none);
- an adjustment line (`<line_id>:adj`, `:adj2`...): the events of the line it adjusts as the
  warehouse holds them now; `arrived_late` marks the last ones by landing order, as many as
  the adjustment adds to the line's events (the events landed after the frozen invoice).
Subscription, commitment, true-up, fixed-charge, add-on and credit lines have no events.

The view reads the rating state (intermediate.int_charge_events, raw.events) only up to the
files landed when it was published (`load_sequence` <= that run's last), so a later run that
fails its gates does not change what it shows."""
from __future__ import annotations

import duckdb

from orchestration.charge_models import DBT_PROJECT_FILE
from orchestration.lib.warehouse import table_exists

VIEW = "billing.invoice_line_events"

# (column, meaning): the view's columns, in order, for analysts (README)
COLUMNS = (
    ("line_id", "the line of billing.invoice_lines"),
    ("invoice_id", "its invoice"),
    ("external_subscription_id", "the subscription the event was billed to"),
    ("charge_id", "the charge"),
    ("filter_index", "the price bucket (charge filter; 0 the default bucket)"),
    ("group_key", "the pricing group ('' without pricing_group_keys)"),
    ("source_file", "the landing file of the event"),
    ("line_number", "its line (row) in that file"),
    ("transaction_id", "the event's transaction_id"),
    ("event_at", "the event's instant (UTC)"),
    ("usage_date", "its local day (customer timezone)"),
    ("value", "the metered value (the metric's field; null for a count)"),
    ("field_value", "a unique count's id"),
    ("operation_type", "a unique count's add / remove"),
    ("is_carried", "a recurring metric's event from before the line's period"),
    ("arrived_late", "an adjustment line's event that landed after the invoice was frozen"),
)


def _aggregations(key: str) -> str:
    """The aggregations whose registry entry has `key` (dbt_project.yml, as the dbt models read
    it), as an SQL list: `carries_count` (recurring events count since the subscription's
    start), `ids` (a unique count: its id and add / remove)."""
    import yaml
    entries = yaml.safe_load(DBT_PROJECT_FILE.read_text())["vars"]["aggregations"]
    return ", ".join(f"'{name}'" for name, entry in sorted(entries.items()) if entry.get(key)) or "''"


def events_sql(landed_through: int) -> str:
    """The view's query: every published line's events, over the files landed through
    `landed_through` (a load_sequence of raw.landing_files)."""
    carrying, with_ids = _aggregations("carries_count"), _aggregations("ids")
    return f"""
with published as (
    select
        lines.invoice_id, lines.line_id, lines.charge_id, lines.events_count,
        invoices.external_subscription_id, invoices.period_start, invoices.period_end,
        invoices.invoice_type = 'adjustment' as is_adjustment,
        invoices.status = 'finalized' as is_frozen,
        -- an adjustment line adjusts `<line_id>` of the invoice it adjusts, in rounds (`:adj`,
        -- `:adj2`...; the adjusted line is round 0)
        case when invoices.invoice_type = 'adjustment'
            then regexp_replace(lines.line_id, ':adj[0-9]*$', '') else lines.line_id end as base_line_id,
        case when invoices.invoice_type <> 'adjustment' then 0
            else coalesce(try_cast(regexp_extract(lines.line_id, ':adj([0-9]*)$', 1) as integer), 1) end
            as adjustment_round,
        coalesce(invoices.adjusts_invoice_id, lines.invoice_id) as base_invoice_id
    from billing.invoice_lines as lines
    inner join billing.invoices as invoices
        on lines.invoice_id = invoices.invoice_id
    where lines.fee_type = 'charge'
),

-- the events the earlier rounds of a line counted: a line's own events come after them in
-- landing order (the files land in load_sequence order, and a frozen line never changes)
lines as (
    select
        published.*,
        coalesce(sum(published.events_count) over (
            partition by published.base_line_id order by published.adjustment_round
            rows between unbounded preceding and 1 preceding
        ), 0) as events_before
    from published
),

instant_events as (
    select lines.*, fees.filter_index, fees.group_key, fees.source_file, fees.line_number, fees.event_at
    from lines
    inner join billing.instant_fees as fees
        on lines.base_line_id = fees.line_id
    where fees.source_file is not null
),

-- a usage line's id is `<invoice>:<charge>:<bucket>[:<group>]` (int_invoice_lines); true-ups
-- (`:true_up`) have no bucket and no events
usage_lines as (
    select
        lines.*,
        try_cast(split_part(bucket_key, ':', 1) as integer) as filter_index,
        case when position(':' in bucket_key) > 0 then substring(bucket_key, position(':' in bucket_key) + 1)
            else '' end as group_key,
        -- a progressive invoice bills usage up to the event that crossed its threshold
        case when based.invoice_type = 'progressive_billing' then rated.issued_at end as cutoff_at
    from (
        select lines.*,
            substring(lines.base_line_id, length(lines.base_invoice_id || ':' || lines.charge_id || ':') + 1)
                as bucket_key
        from lines
        where lines.base_line_id like lines.base_invoice_id || ':' || lines.charge_id || ':%'
            and lines.base_line_id not in (select line_id from billing.instant_fees where line_id is not null)
    ) as lines
    inner join billing.invoices as based
        on lines.base_invoice_id = based.invoice_id
    left join intermediate.int_invoices as rated
        on lines.base_invoice_id = rated.invoice_id
),

usage_events as (
    select
        usage_lines.invoice_id, usage_lines.line_id, usage_lines.events_count, usage_lines.events_before,
        usage_lines.is_adjustment, usage_lines.is_frozen,
        usage_lines.external_subscription_id, usage_lines.charge_id, usage_lines.filter_index, usage_lines.group_key,
        charge_events.source_file, charge_events.file_checksum, charge_events.line_number, charge_events.event_at,
        charge_events.usage_date, charge_events.aggregation_type, charge_events.event_value,
        charge_events.field_value_text, charge_events.operation_type, charge_events.load_sequence,
        charge_events.usage_date < usage_lines.period_start as is_carried
    from usage_lines
    inner join intermediate.int_charge_events as charge_events
        on usage_lines.external_subscription_id = charge_events.external_subscription_id
        and usage_lines.charge_id = charge_events.charge_id
        and usage_lines.filter_index = charge_events.filter_index
        and usage_lines.group_key = charge_events.group_key
        and charge_events.usage_date <= usage_lines.period_end
        and (charge_events.usage_date >= usage_lines.period_start
            or (charge_events.is_recurring and charge_events.aggregation_type in ({carrying})))
        and (usage_lines.cutoff_at is null or charge_events.event_at <= usage_lines.cutoff_at)
    where charge_events.load_sequence <= {int(landed_through)}
),

instant_rows as (
    select
        instant_events.invoice_id, instant_events.line_id, instant_events.events_count, instant_events.events_before,
        instant_events.is_adjustment, instant_events.is_frozen,
        instant_events.external_subscription_id, instant_events.charge_id, instant_events.filter_index,
        instant_events.group_key, charge_events.source_file, charge_events.file_checksum, charge_events.line_number,
        charge_events.event_at, charge_events.usage_date, charge_events.aggregation_type, charge_events.event_value,
        charge_events.field_value_text, charge_events.operation_type, charge_events.load_sequence, false as is_carried
    from instant_events
    inner join intermediate.int_charge_events as charge_events
        on instant_events.source_file = charge_events.source_file
        and instant_events.line_number = charge_events.line_number
        and instant_events.charge_id = charge_events.charge_id
        and instant_events.external_subscription_id = charge_events.external_subscription_id
    where charge_events.load_sequence <= {int(landed_through)}
),

all_events as (
    select * from usage_events
    union all
    select * from instant_rows
),

-- each line's events in landing order: a frozen line counted the first ones (those landed
-- when it was frozen); an adjustment round counts those after the earlier rounds' (late)
ranked as (
    select
        all_events.*,
        row_number() over (
            partition by all_events.line_id
            order by all_events.load_sequence, all_events.source_file, all_events.line_number
        ) as landed_order
    from all_events
)

select
    ranked.line_id,
    ranked.invoice_id,
    ranked.external_subscription_id,
    ranked.charge_id,
    ranked.filter_index,
    ranked.group_key,
    ranked.source_file,
    ranked.line_number,
    events.transaction_id,
    ranked.event_at,
    ranked.usage_date,
    ranked.event_value as value,
    case when ranked.aggregation_type in ({with_ids}) then ranked.field_value_text end as field_value,
    case when ranked.aggregation_type in ({with_ids}) then ranked.operation_type end as operation_type,
    ranked.is_carried,
    ranked.is_adjustment and ranked.landed_order > ranked.events_before as arrived_late
from ranked
left join raw.events as events
    on ranked.source_file = events.source_file
    and ranked.file_checksum = events.file_checksum
    and ranked.line_number = events.line_number
where not ranked.is_frozen or ranked.landed_order <= ranked.events_before + ranked.events_count
"""


def view_sql(landed_through: int) -> str:
    return f"create or replace view {VIEW} as {events_sql(landed_through)}"


def create_view(con: duckdb.DuckDBPyConnection) -> None:
    """(Re)create the view over what this publication rated: the files landed so far."""
    if not table_exists(con, "intermediate", "int_charge_events") or not table_exists(con, "billing", "instant_fees"):
        return
    landed = con.execute("select coalesce(max(load_sequence), 0) from raw.landing_files").fetchone()[0]
    con.execute(view_sql(landed))
