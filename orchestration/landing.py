"""Land raw event files (SPEC §2) into `raw.events`, once per file, parsed once, deduplicated.

Each new file is read with DuckDB's own readers and turned, in one SQL statement, into narrow
typed rows: the Lago fields, the timestamp as a UTC instant, `properties` as JSON text, the
first rule the row breaks (`rejection_reason`, decided here, once) and its duplicate status
against every event landed before it. Nothing downstream re-parses a payload.

Duplicates (README "Choices"): `transaction_id` is unique per subscription (per customer when
only the customer is sent). The first copy *landed* wins: files in the order they were landed
(`load_sequence`; a batch lands in name order), then line order. A later copy with the same
content is a `duplicate` (ignored), one with different content a `conflicting_duplicate`
(quarantined). So a late file with an earlier name never changes which copy was accepted.
Each batch is checked against history by a 128-bit key (two 64-bit hashes of scope and
transaction id) alone; contents are compared only for the rare keys seen before.

The original payload is kept for the rows rejected here (parse errors, missing fields, bad
timestamps, conflicting duplicates); every other row keeps its source file and line.
No Python touches individual events.
"""
from __future__ import annotations

import csv
import hashlib
import tempfile
from dataclasses import dataclass
from pathlib import Path

import duckdb

from orchestration.lib.crash import crash_point

FORMATS = {".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv", ".parquet": "parquet"}
# json_type() raises on invalid JSON and DuckDB evaluates both sides of an AND: a CASE guards it
JSON_OBJECT = "(case when json_valid({x}) then json_type({x}) = 'OBJECT' else false end)"
ROW = "__tally_row"  # the row as a struct (a file's own column may be called `src`)
FIELDS = ["transaction_id", "external_customer_id", "external_subscription_id", "code", "timestamp", "properties",
          "precise_total_amount_cents"]
# Lago's dynamic pricing amount (a top-level event field, in the currency's minor units): a
# decimal of at most 23 digits before the point and 15 after (Lago stores it with 15), a JSON
# number or a numeric string; anything else is non_numeric_value.
PRECISE_AMOUNT = "decimal(38, 15)"
PRECISE_AMOUNT_PATTERN = "-?[0-9]{1,23}(\\.[0-9]{1,15})?"

EVENT_COLUMNS = f"""
    load_sequence bigint, source_file varchar, file_checksum varchar, line_number bigint,
    transaction_id varchar, external_customer_id varchar, external_subscription_id varchar,
    billable_metric_code varchar, event_timestamp varchar, event_at timestamp, properties varchar,
    rejection_reason varchar, rejection_detail varchar,
    dedup_key ubigint, dedup_key_2 ubigint, dedup_status varchar,
    first_source_file varchar, first_line_number bigint, payload varchar,
    precise_total_amount_cents {PRECISE_AMOUNT}"""

RAW_DDL = f"""
create schema if not exists raw;
create table if not exists raw.landing_files (
    file_name varchar, checksum varchar, file_format varchar, rows_loaded bigint, load_sequence bigint,
    rejection_reason varchar, rejection_detail varchar);
-- warehouses landed before unreadable files were quarantined: the two columns, empty
alter table raw.landing_files add column if not exists rejection_reason varchar;
alter table raw.landing_files add column if not exists rejection_detail varchar;
create table if not exists raw.events ({EVENT_COLUMNS});
-- warehouses landed before dynamic pricing: the column, empty
alter table raw.events add column if not exists precise_total_amount_cents {PRECISE_AMOUNT};
create table if not exists raw.billing_window (billing_from date, billing_to date);
insert into raw.billing_window select date '2000-01-01', date '2100-01-01'
    where not exists (select 1 from raw.billing_window);
"""

# The text form every reader produces (the columns of raw.events before 0.2, see _migrate).
TEXT_COLUMNS = ["line_number", "payload", "parse_error", "transaction_id", "external_customer_id",
                "external_subscription_id", "code", "event_timestamp", "properties",
                "cast(null as varchar) as precise_total_amount_cents"]


@dataclass
class LandingResult:
    loaded: list[tuple[str, int]]
    skipped: list[tuple[str, str]]

    @property
    def rows(self) -> int:
        return sum(n for _, n in self.loaded)


def checksum(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _sql_str(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


JSONL_CHUNK_BYTES = 64 << 20


def _jsonl_chunks(path: Path, folder: Path, chunk_bytes: int | None = None):
    """Cut a JSONL file at line ends into files of about `chunk_bytes`; yield (chunk file, lines
    before it, numbers of its lines that are not UTF-8). DuckDB reads one chunk at a time, so a
    file of any size lands in bounded memory (read_text holds a whole file as one value). Python
    only counts newlines and checks UTF-8 per chunk; only a chunk that is not UTF-8 is split
    into lines, and its bad lines are written with their bytes escaped (read_text refuses the
    whole chunk otherwise). A UTF-8 byte order mark opening the file is dropped."""
    lines_before, rest, index = 0, b"", 0
    with path.open("rb") as fh:
        if fh.read(3) != b"\xef\xbb\xbf":
            fh.seek(0)
        while True:
            block = fh.read(chunk_bytes or JSONL_CHUNK_BYTES)
            data = rest + block
            cut = data.rfind(b"\n") + 1 if block else len(data)  # the end of the last whole line
            chunk, rest = data[:cut], data[cut:]
            if chunk:
                index += 1
                chunk, bad_lines = _escape_non_utf8(chunk, lines_before)
                part = folder / f"chunk_{index:06d}.jsonl"
                part.write_bytes(chunk)
                yield part, lines_before, bad_lines
                part.unlink()
                lines_before += chunk.count(b"\n")
            if not block:
                return


def _escape_non_utf8(chunk: bytes, lines_before: int) -> tuple[bytes, list[int]]:
    """The chunk as valid UTF-8 and the numbers of the lines that were not (their bytes escaped
    as \\xNN, so the payload shows them)."""
    try:
        chunk.decode("utf-8")
        return chunk, []
    except UnicodeDecodeError:
        pass
    lines, bad = chunk.split(b"\n"), []
    for i, line in enumerate(lines):
        try:
            line.decode("utf-8")
        except UnicodeDecodeError:
            bad.append(lines_before + i + 1)
            lines[i] = line.decode("utf-8", "backslashreplace").encode("utf-8")
    return b"\n".join(lines), bad


def _jsonl_select(path: Path, lines_before: int = 0, bad_lines: list[int] | None = None) -> str:
    # read_text + string_split keeps every line, even one a JSON reader would reject, with its number.
    not_utf8 = f"line_number in ({', '.join(map(str, bad_lines))})" if bad_lines else "false"
    return f"""
    with file as (select string_split(replace(content, chr(13), ''), chr(10)) as lines
                  from read_text({_sql_str(str(path))})),
    numbered as (select unnest(lines) as payload, generate_subscripts(lines, 1) + {lines_before} as line_number
                 from file),
    parsed as (
        select line_number, payload, {not_utf8} as not_utf8,
               case when {not_utf8} then null when {JSON_OBJECT.format(x='payload')} then payload::json end as j
        from numbered where trim(payload, ' \t\r') <> ''
    )
    select line_number, payload,
           case when not_utf8 then 'not_utf8' when j is null then 'malformed_json' end as parse_error,
           json_extract_string(j, '$.transaction_id') as transaction_id,
           json_extract_string(j, '$.external_customer_id') as external_customer_id,
           json_extract_string(j, '$.external_subscription_id') as external_subscription_id,
           json_extract_string(j, '$.code') as code,
           json_extract_string(j, '$.timestamp') as event_timestamp,
           case when json_type(j, '$.properties') = 'VARCHAR' then json_extract_string(j, '$.properties')
                else cast(json_extract(j, '$.properties') as varchar) end as properties,
           json_extract_string(j, '$.precise_total_amount_cents') as precise_total_amount_cents,
           cast(null as timestamp) as event_at_typed
    from parsed
    """


def _column_types(con: duckdb.DuckDBPyConnection, reader: str) -> dict[str, str]:
    return {r[0]: r[1] for r in con.execute(f"describe select * from {reader}").fetchall()}


def _text(col: str, typ: str | None) -> str:
    """Any column type -> text (structs as JSON); timestamps go through _typed_timestamp instead."""
    if typ is None:
        return "cast(null as varchar)"
    q = f'{ROW}."{col}"'
    t = typ.upper()
    if t.startswith("TIMESTAMP WITH TIME ZONE") or t == "TIMESTAMPTZ":
        return f"strftime(timezone('UTC', {q}), '%Y-%m-%dT%H:%M:%S.%fZ')"
    if t.startswith("TIMESTAMP"):
        return f"strftime(cast({q} as timestamp), '%Y-%m-%dT%H:%M:%S.%fZ')"
    if t.startswith(("STRUCT", "MAP")) or t == "JSON":
        return f"cast(to_json({q}) as varchar)"
    return f"cast({q} as varchar)"


def _typed_timestamp(typ: str | None) -> str:
    """A Parquet TIMESTAMP column is already an instant: no text round trip."""
    t = (typ or "").upper()
    if t.startswith("TIMESTAMP WITH TIME ZONE") or t == "TIMESTAMPTZ":
        return f"timezone('UTC', {ROW}.\"timestamp\")"
    if t.startswith("TIMESTAMP"):
        return f"cast({ROW}.\"timestamp\" as timestamp)"
    return "cast(null as timestamp)"


def _tabular_select(con: duckdb.DuckDBPyConnection, reader: str, row_number: str) -> str:
    types = _column_types(con, reader)
    cols = [f"{_text(f, types.get(f))} as {('event_timestamp' if f == 'timestamp' else f)}" for f in FIELDS]
    typed_ts = _typed_timestamp(types.get("timestamp"))
    if typed_ts != "cast(null as timestamp)":  # the text form is only needed to report a bad value
        cols[FIELDS.index("timestamp")] = "cast(null as varchar) as event_timestamp"
    # the payload (the row as JSON) is only built for rows rejected at landing, see _typed_insert
    return f"""
    select {row_number} as line_number, {ROW} as payload_row,
           cast(null as varchar) as parse_error, {', '.join(cols)}, {typed_ts} as event_at_typed
    from {reader} as {ROW}
    """


def _reader(path: Path, fmt: str, columns: list[str] | None = None) -> str:
    p = _sql_str(str(path))
    if fmt == "csv":
        # RFC 4180 with the file's own header, every column text: no dialect sniffing (it raises
        # on a file it cannot make sense of, or guesses another delimiter and loses every row)
        cols = "{" + ", ".join(f"{_sql_str(c)}: 'varchar'" for c in columns or []) + "}"
        return (f"read_csv({p}, auto_detect=false, header=true, columns={cols}, delim=',', quote='\"', "
                f"escape='\"', store_rejects=true, rejects_table='tally_csv_rejects', "
                f"rejects_scan='tally_csv_scan')")
    return f"read_parquet({p}, file_row_number=true)"


def _csv_header(path: Path) -> list[str]:
    """The column names of a CSV file's first line (BOM and CR dropped, blank or repeated names
    made unique, as DuckDB's reader does)."""
    with path.open("rb") as fh:
        first = fh.readline(1 << 20)
    text = first.decode("utf-8-sig", "replace").rstrip("\r\n")
    names = next(csv.reader([text]), []) if text.strip() else []
    out: list[str] = []
    for i, name in enumerate(n.strip() for n in names):
        name = name or f"column{i}"
        while name in out:
            name += f"_{i}"
        out.append(name)
    return out


# Unix seconds; ISO-8601 without a zone is UTC (a timestamptz cast would take the session's zone);
# with an offset or a zone name, the instant it names.
PARSE_TIMESTAMP = """case
    when regexp_full_match({t}, '-?[0-9]{{1,12}}(\\.[0-9]+)?')
        then make_timestamp(cast(round(cast({t} as decimal(38, 9)) * 1000000) as bigint))
    when regexp_full_match({t},
                           '[0-9]{{4}}-[0-9]{{2}}-[0-9]{{2}}([T ][0-9]{{2}}:[0-9]{{2}}(:[0-9]{{2}}(\\.[0-9]*)?)?)?')
        then try_cast(replace({t}, ' ', 'T') as timestamp)
    else timezone('UTC', try_cast(regexp_replace({t}, ' ', 'T') as timestamptz))
end"""


def _typed_insert(stage: str, payload: str, sequence: int, name: str, digest: str) -> str:
    """One statement: text rows of one file -> typed rows of raw.events, deduplicated against
    every earlier file (by key) and within the file (by line)."""
    return f"""
    insert into raw.events
    with stage as ({stage}),
    {_checked_ctes()},
    {dedup_ctes(_sql_str(name), _same_content('k', 'coalesce(e.{c}, f.{c})'))}
    select {sequence}, {_sql_str(name)}, {_sql_str(digest)}, line_number, transaction_id, external_customer_id,
        external_subscription_id, billable_metric_code,
        case when rejection_reason is not null then event_timestamp end, event_at, properties,
        rejection_reason, rejection_detail, dedup_key, dedup_key_2, dedup_status,
        case when dedup_status = 'conflicting_duplicate' then first_file end,
        case when dedup_status = 'conflicting_duplicate' then first_line end,
        case when rejection_reason is not null or dedup_status = 'conflicting_duplicate' then {payload} end,
        case when rejection_reason is null then try_cast(precise_total_amount_cents as {PRECISE_AMOUNT}) end
    from statused
    """


def _checked_ctes() -> str:
    """CTEs trimmed, parsed, checked, keyed over `stage`: each row typed, its rejection decided
    (reason and a sentence for people), and the dedup key of an accepted row."""
    checked = checked_cte(JSON_OBJECT.format(x="properties"),
                          f"regexp_full_match(precise_total_amount_cents, '{PRECISE_AMOUNT_PATTERN}')")
    return f"""
    trimmed as (
        select * replace (
            nullif(trim(transaction_id), '') as transaction_id,
            nullif(trim(external_customer_id), '') as external_customer_id,
            nullif(trim(external_subscription_id), '') as external_subscription_id,
            nullif(trim(event_timestamp), '') as event_timestamp,
            coalesce(nullif(trim(properties), ''), '{{}}') as properties,
            nullif(trim(precise_total_amount_cents), '') as precise_total_amount_cents),
            nullif(trim(code), '') as billable_metric_code
        from stage
    ),
    parsed as (
        select *, coalesce(event_at_typed, {PARSE_TIMESTAMP.format(t='event_timestamp')}) as event_at
        from trimmed
    ),
    {checked},
    keyed as (
        select *,
            case when rejection_reason is null then hash(
                coalesce('sub:' || external_subscription_id, 'cus:' || external_customer_id), transaction_id) end
                as dedup_key,
            case when rejection_reason is null then hash(
                transaction_id, '|', coalesce('sub:' || external_subscription_id, 'cus:' || external_customer_id)) end
                as dedup_key_2
        from checked
    )"""


def checked_cte(is_object_sql: str, is_amount_sql: str) -> str:
    """The CTE `checked` over `parsed`: each row's rejection reason and a sentence for people. The
    one SQL of both engines (orchestration/engines/spark/landing.py): `is_object_sql` is the
    engine's test that `properties` is a JSON object, `is_amount_sql` that
    `precise_total_amount_cents` is a decimal number."""
    bad_amount = f"precise_total_amount_cents is not null and not {is_amount_sql}"
    return f"""checked as (
        select *,
            case
                when parse_error = 'malformed_row' then 'malformed_row'
                when parse_error is not null then 'malformed_json'
                when transaction_id is null or billable_metric_code is null
                    or (event_timestamp is null and event_at_typed is null)
                    or (external_customer_id is null and external_subscription_id is null) then 'missing_field'
                when not {is_object_sql} then 'malformed_json'
                when event_at is null then 'bad_timestamp'
                when {bad_amount} then 'non_numeric_value'
            end as rejection_reason,
            case
                when parse_error = 'malformed_row' then 'The CSV row could not be split into columns.'
                when parse_error = 'not_utf8' then 'The line is not UTF-8 text (its bytes are shown escaped).'
                when parse_error is not null then 'The line is not a JSON object.'
                when transaction_id is null then 'Required field transaction_id is missing.'
                when billable_metric_code is null then 'Required field code is missing.'
                when event_timestamp is null and event_at_typed is null then 'Required field timestamp is missing.'
                when external_customer_id is null and external_subscription_id is null
                    then 'One of external_customer_id and external_subscription_id is required.'
                when not {is_object_sql} then 'properties is not a JSON object.'
                when event_at is null
                    then 'Timestamp ' || event_timestamp || ' is neither ISO-8601 nor Unix seconds.'
                when {bad_amount}
                    then 'precise_total_amount_cents ' || precise_total_amount_cents || ' is not a decimal number '
                        || '(-?digits[.digits], at most 23 digits before the point and 15 after).'
            end as rejection_detail
        from parsed
    )"""


def dedup_ctes(name_sql: str, same_sql: str) -> str:
    """CTEs earlier, repeated, firsts, statused over `keyed`: first seen wins, by load order then
    line; a later copy is a duplicate (same content) or a conflicting duplicate. The one SQL of both
    engines (orchestration/engines/spark/landing.py): `name_sql` is the file's name as a literal,
    `same_sql` the engine's test that row `k` has the content of its first copy
    (`coalesce(e.<column>, f.<column>)`)."""
    return f"""
    -- keys landed before (accepted copies only: the first copy of a key is the accepted one)
    earlier as (
        select h.dedup_key, h.dedup_key_2, h.source_file, h.line_number, h.external_customer_id,
               h.external_subscription_id, h.billable_metric_code, h.event_at, h.properties,
               h.precise_total_amount_cents
        from raw.events as h
        where h.dedup_status = 'accepted'
          and h.dedup_key in (select dedup_key from keyed where dedup_key is not null)
    ),
    -- keys seen more than once in this file: the first line is the candidate first copy
    repeated as (
        select dedup_key, dedup_key_2, min(line_number) as first_line
        from keyed where dedup_key is not null
        group by 1, 2 having count(*) > 1
    ),
    firsts as (
        select k.dedup_key, k.dedup_key_2, {name_sql} as source_file, k.line_number,
               k.external_customer_id, k.external_subscription_id, k.billable_metric_code, k.event_at, k.properties,
               try_cast(k.precise_total_amount_cents as {PRECISE_AMOUNT}) as precise_total_amount_cents
        from keyed as k
        inner join repeated as r
            on k.dedup_key = r.dedup_key and k.dedup_key_2 = r.dedup_key_2 and k.line_number = r.first_line
    ),
    statused as (
        select k.*,
            coalesce(e.source_file, f.source_file) as first_file,
            coalesce(e.line_number, f.line_number) as first_line,
            case
                when k.rejection_reason is not null then null
                when e.dedup_key is null and (f.dedup_key is null or f.line_number = k.line_number) then 'accepted'
                when {same_sql} then 'duplicate'
                else 'conflicting_duplicate'
            end as dedup_status
        from keyed as k
        left join earlier as e
            on k.dedup_key = e.dedup_key and k.dedup_key_2 = e.dedup_key_2
        left join firsts as f
            on e.dedup_key is null and k.dedup_key = f.dedup_key and k.dedup_key_2 = f.dedup_key_2
    )"""


def _same_content(new: str, first: str) -> str:
    """The same event sent again: customer, subscription, code, instant, properties (the same
    text, or top-level keys in any order) and precise_total_amount_cents (as a number) all
    equal. Properties repeating a key cannot be a map: try() makes them compare by text only
    (the cast would raise and fail the whole file)."""
    def f(c: str) -> str:
        return first.format(c=c)
    norm = "try(cast(list_sort(map_entries(cast(json({}) as map(varchar, json)))) as varchar))"
    return (f"{new}.external_customer_id is not distinct from {f('external_customer_id')}"
            f" and {new}.external_subscription_id is not distinct from {f('external_subscription_id')}"
            f" and {new}.billable_metric_code = {f('billable_metric_code')}"
            f" and {new}.event_at = {f('event_at')}"
            f" and try_cast({new}.precise_total_amount_cents as {PRECISE_AMOUNT})"
            f" is not distinct from {f('precise_total_amount_cents')}"
            f" and ({new}.properties = {f('properties')}"
            f" or {norm.format(new + '.properties')} = {norm.format(f('properties'))})")


def load(con: duckdb.DuckDBPyConnection, folder: Path) -> LandingResult:
    """Load every new file of `folder` in name order; a file already in the manifest is skipped."""
    con.execute(RAW_DDL)
    _migrate(con)
    folder = Path(folder)
    files = sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in FORMATS) \
        if folder.exists() else []
    known = {c: n for n, c in con.execute("select file_name, checksum from raw.landing_files").fetchall()}
    seq = con.execute("select coalesce(max(load_sequence), 0) from raw.landing_files").fetchone()[0]
    result = LandingResult([], [])
    for path in files:
        digest = checksum(path)
        if digest in known:
            result.skipped.append((path.name, known[digest]))
            continue
        seq += 1
        fmt = FORMATS[path.suffix.lower()]
        try:
            n = _land_file(con, path, fmt, digest, seq)
        except Exception as exc:
            why = _unreadable(con, path, fmt, exc)
            if why is None:
                raise
            n = _quarantine_file(con, path, fmt, digest, seq, why)
        crash_point("landing", f"{path.name} committed")
        known[digest] = path.name
        result.loaded.append((path.name, n))
    return result


class UnreadableFile(Exception):
    """The reader cannot open the file at all; the message says why, for people."""


FORMAT_NAMES = {"jsonl": "JSON Lines", "csv": "CSV", "parquet": "Parquet"}


def _land_file(con: duckdb.DuckDBPyConnection, path: Path, fmt: str, digest: str, seq: int) -> int:
    """One file's rows and its manifest row, in one transaction."""
    con.execute("begin transaction")
    try:
        n = _load_file(con, path, fmt, digest, seq)
        con.execute("insert into raw.landing_files (file_name, checksum, file_format, rows_loaded, load_sequence) "
                    "values (?, ?, ?, ?, ?)", [path.name, digest, fmt, n, seq])
        crash_point("landing", f"{path.name} written, not committed")
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        raise
    return n


def _unreadable(con: duckdb.DuckDBPyConnection, path: Path, fmt: str, exc: Exception) -> str | None:
    """Why the file cannot be read, or None when it can (then the failure is not the file's, and
    the run stops rather than quarantine a good file: a full disk or a bug is no reason to lose
    its events). The file is re-read on its own, every column, to tell the two apart."""
    if isinstance(exc, UnreadableFile):
        return str(exc)
    if fmt == "jsonl" or isinstance(exc, (duckdb.OutOfMemoryException, duckdb.InterruptException)):
        return None
    # Parquet without the reader's options: an option of ours that fails is not the file's fault
    reader = _reader(path, fmt, _csv_header(path)) if fmt == "csv" else f"read_parquet({_sql_str(str(path))})"
    try:
        con.execute(f"select count(hash({ROW})) from {reader} as {ROW}").fetchall()
    except duckdb.Error as probe:
        return str(probe).replace(str(path), path.name).split("\n")[0]
    return None


def _quarantine_file(con: duckdb.DuckDBPyConnection, path: Path, fmt: str, digest: str, seq: int,
                     why: str) -> int:
    """A file the reader cannot open: one raw.events row for the whole file (no line number, no
    payload), quarantined as `unreadable_file`, and the manifest row says why. Its checksum is
    recorded like any landed file's: the same bytes are not tried again, a fixed file lands."""
    detail = f"The file cannot be read as {FORMAT_NAMES[fmt]}: {why}"
    con.execute("begin transaction")
    con.execute("insert into raw.events (load_sequence, source_file, file_checksum, rejection_reason, "
                "rejection_detail) values (?, ?, ?, 'unreadable_file', ?)", [seq, path.name, digest, detail])
    con.execute("insert into raw.landing_files values (?, ?, ?, 1, ?, 'unreadable_file', ?)",
                [path.name, digest, fmt, seq, detail])
    con.execute("commit")
    return 1


def _load_file(con: duckdb.DuckDBPyConnection, path: Path, fmt: str, digest: str, seq: int) -> int:
    before = con.execute("select count(*) from raw.events").fetchone()[0]
    if fmt == "jsonl":
        # chunks land in line order, each deduplicated against the ones before it (history)
        with tempfile.TemporaryDirectory(prefix="tally_jsonl_") as tmp:
            for part, lines_before, bad_lines in _jsonl_chunks(path, Path(tmp)):
                con.execute(_typed_insert(_jsonl_select(part, lines_before, bad_lines), "payload", seq, path.name,
                                          digest))
    elif fmt == "parquet":
        # numbered as CSV rows are (the first row is line 2), as published before 0.2; a file with
        # its own file_row_number column cannot take the reader's (a binder error): rows in order
        plain = f"read_parquet({_sql_str(str(path))})"
        if "file_row_number" in _column_types(con, plain):
            stage = _tabular_select(con, plain, "row_number() over () + 1")
            payload = "cast(to_json(payload_row) as varchar)"
        else:
            stage = _tabular_select(con, _reader(path, fmt), "file_row_number + 2")
            # the payload is the row as sent: the reader's row number is not one of its columns
            payload = "cast(json_remove(to_json(payload_row), '$.file_row_number') as varchar)"
        con.execute(_typed_insert(stage, payload, seq, path.name, digest))
    else:
        _load_csv(con, path, digest, seq)
    return con.execute("select count(*) from raw.events").fetchone()[0] - before


def _load_csv(con: duckdb.DuckDBPyConnection, path: Path, digest: str, seq: int) -> None:
    columns = _csv_header(path)
    if not columns:
        if path.read_bytes().strip():
            raise UnreadableFile("its first line is not a CSV header")
        return  # an empty file: no rows
    reader = _reader(path, "csv", columns)
    con.execute("drop table if exists tally_csv_rejects; drop table if exists tally_csv_scan")
    con.execute("create or replace temp table tally_csv_stage as select *, cast(null as varchar) as raw_line "
                f"from ({_tabular_select(con, reader, 'row_number() over ()')})")
    # Rows the CSV reader could not split are kept whole, as malformed, never dropped: one per
    # rejected row (the reader lists each error of a row). The reader numbers rejected rows
    # (header = 1); the rows it read take the other numbers, in order.
    con.execute("""
        create or replace temp table tally_csv_rejected as
        select line, min(csv_line) as csv_line from tally_csv_rejects group by line""")
    con.execute("""
        update tally_csv_stage set line_number = free.line
        from (select line, row_number() over (order by line) as k
              from range(2, 2 + (select count(*) from tally_csv_stage)
                              + (select count(*) from tally_csv_rejected)) as r(line)
              where line not in (select line from tally_csv_rejected)) as free
        where tally_csv_stage.line_number = free.k""")
    con.execute("insert into tally_csv_stage (line_number, parse_error, raw_line) "
                "select line, 'malformed_row', csv_line from tally_csv_rejected")
    con.execute(_typed_insert("select * from tally_csv_stage",
                              "coalesce(raw_line, cast(to_json(payload_row) as varchar))", seq, path.name, digest))
    con.execute("drop table tally_csv_stage; drop table tally_csv_rejected")


def _migrate(con: duckdb.DuckDBPyConnection) -> None:
    """A warehouse landed before events were typed at landing: re-land its text rows, file by
    file in load order, through the same statement (same rules, same duplicate decisions)."""
    cols = {r[0] for r in con.execute(
        "select column_name from information_schema.columns "
        "where table_schema = 'raw' and table_name = 'events'").fetchall()}
    if "load_sequence" in cols:
        return
    con.execute("begin transaction")
    con.execute("alter table raw.events rename to events_text")
    con.execute(f"create table raw.events ({EVENT_COLUMNS})")
    files = con.execute("""
        select f.file_name, f.checksum, row_number() over (order by f.load_sequence, f.file_name)
        from raw.landing_files as f order by 3""").fetchall()
    for name, digest, seq in files:
        stage = (f"select {', '.join(TEXT_COLUMNS)}, cast(null as timestamp) as event_at_typed "
                 f"from raw.events_text where file_checksum = {_sql_str(digest)}")
        con.execute(_typed_insert(stage, "payload", seq, name, digest))
        con.execute("update raw.landing_files set load_sequence = ? where checksum = ?", [seq, digest])
    con.execute("drop table raw.events_text")
    con.execute("commit")
