"""Land raw event files (SPEC §2) into `raw.events`, once per file, with DuckDB's own readers.

Nothing is interpreted here beyond pulling the Lago fields out as text: a malformed line is
kept with its payload and a parse error, and every rule (timestamps, duplicates, unknown
customers...) is applied in dbt (`stg_events` and after), so the rules live in SQL and the
same files always give the same rows. No Python touches individual events.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import duckdb

FORMATS = {".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv", ".parquet": "parquet"}
FIELDS = ["transaction_id", "external_customer_id", "external_subscription_id", "code", "timestamp", "properties"]

RAW_DDL = """
create schema if not exists raw;
create table if not exists raw.landing_files (
    file_name varchar, checksum varchar, file_format varchar, rows_loaded bigint, load_sequence bigint);
create table if not exists raw.events (
    source_file varchar, file_checksum varchar, line_number bigint, payload varchar, parse_error varchar,
    transaction_id varchar, external_customer_id varchar, external_subscription_id varchar,
    code varchar, event_timestamp varchar, properties varchar);
"""


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


def _jsonl_select(path: Path) -> str:
    # read_text + string_split keeps every line, even one a JSON reader would reject, with its number.
    return f"""
    with file as (select string_split(replace(content, chr(13), ''), chr(10)) as lines
                  from read_text({_sql_str(str(path))})),
    numbered as (select unnest(lines) as payload, generate_subscripts(lines, 1) as line_number from file),
    parsed as (
        select line_number, payload,
               case when json_valid(payload) and json_type(payload) = 'OBJECT' then payload::json end as j
        from numbered where trim(payload) <> ''
    )
    select line_number, payload,
           case when j is null then 'malformed_json' end as parse_error,
           json_extract_string(j, '$.transaction_id') as transaction_id,
           json_extract_string(j, '$.external_customer_id') as external_customer_id,
           json_extract_string(j, '$.external_subscription_id') as external_subscription_id,
           json_extract_string(j, '$.code') as code,
           json_extract_string(j, '$.timestamp') as event_timestamp,
           case when json_type(j, '$.properties') = 'VARCHAR' then json_extract_string(j, '$.properties')
                else cast(json_extract(j, '$.properties') as varchar) end as properties
    from parsed
    """


def _column_types(con: duckdb.DuckDBPyConnection, reader: str) -> dict[str, str]:
    return {r[0]: r[1] for r in con.execute(f"describe select * from {reader}").fetchall()}


def _text(col: str, typ: str | None) -> str:
    """Any column type -> the text form stg_events parses (timestamps as UTC ISO, structs as JSON)."""
    if typ is None:
        return "cast(null as varchar)"
    q = f'"{col}"'
    t = typ.upper()
    if t.startswith("TIMESTAMP WITH TIME ZONE") or t == "TIMESTAMPTZ":
        return f"strftime(timezone('UTC', {q}), '%Y-%m-%dT%H:%M:%S.%fZ')"
    if t.startswith("TIMESTAMP"):
        return f"strftime(cast({q} as timestamp), '%Y-%m-%dT%H:%M:%S.%fZ')"
    if t.startswith("STRUCT") or t.startswith("MAP") or t == "JSON":
        return f"cast(to_json({q}) as varchar)"
    return f"cast({q} as varchar)"


def _tabular_select(con: duckdb.DuckDBPyConnection, reader: str) -> str:
    types = _column_types(con, reader)
    cols = [f"{_text(f, types.get(f))} as {('event_timestamp' if f == 'timestamp' else f)}" for f in FIELDS]
    missing_props = "properties" not in types
    payload = "cast(to_json(src) as varchar)"
    return f"""
    select row_number() over () + 1 as line_number, {payload} as payload,
           cast(null as varchar) as parse_error, {', '.join(cols)}
    from {reader} as src
    """ + ("" if not missing_props else "")


def _reader(path: Path, fmt: str) -> str:
    p = _sql_str(str(path))
    if fmt == "csv":
        return (f"read_csv({p}, all_varchar=true, header=true, store_rejects=true, "
                f"rejects_table='tally_csv_rejects', rejects_scan='tally_csv_scan')")
    return f"read_parquet({p})"


def load(con: duckdb.DuckDBPyConnection, folder: Path) -> LandingResult:
    """Load every new file of `folder` in name order; a file already in the manifest is skipped."""
    con.execute(RAW_DDL)
    folder = Path(folder)
    files = sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in FORMATS) \
        if folder.exists() else []
    known = {c: n for n, c in con.execute("select file_name, checksum from raw.landing_files").fetchall()}
    seq = con.execute("select coalesce(max(load_sequence), 0) + 1 from raw.landing_files").fetchone()[0]
    result = LandingResult([], [])
    for path in files:
        digest = checksum(path)
        if digest in known:
            result.skipped.append((path.name, known[digest]))
            continue
        fmt = FORMATS[path.suffix.lower()]
        con.execute("begin transaction")
        try:
            n = _load_file(con, path, fmt, digest)
            con.execute("insert into raw.landing_files values (?, ?, ?, ?, ?)", [path.name, digest, fmt, n, seq])
            con.execute("commit")
        except Exception:
            con.execute("rollback")
            raise
        known[digest] = path.name
        result.loaded.append((path.name, n))
    return result


def _load_file(con: duckdb.DuckDBPyConnection, path: Path, fmt: str, digest: str) -> int:
    insert = ("insert into raw.events select {name}, {digest}, line_number, payload, parse_error, transaction_id, "
              "external_customer_id, external_subscription_id, code, event_timestamp, properties from ({select})")
    name, dig = _sql_str(path.name), _sql_str(digest)
    before = con.execute("select count(*) from raw.events").fetchone()[0]
    if fmt == "jsonl":
        con.execute(insert.format(name=name, digest=dig, select=_jsonl_select(path)))
    elif fmt == "parquet":
        con.execute(insert.format(name=name, digest=dig, select=_tabular_select(con, _reader(path, fmt))))
    else:
        _load_csv(con, path, name, dig, insert)
    return con.execute("select count(*) from raw.events").fetchone()[0] - before


def _load_csv(con: duckdb.DuckDBPyConnection, path: Path, name: str, dig: str, insert: str) -> None:
    reader = _reader(path, "csv")
    con.execute(insert.format(name=name, digest=dig, select=_tabular_select(con, reader)))
    # Rows the CSV reader could not split are kept whole, as malformed, never dropped.
    try:
        rejects = con.execute("select line, csv_line, error_message from tally_csv_rejects").fetchall()
    except duckdb.Error:
        rejects = []
    for line, csv_line, message in rejects:
        con.execute("insert into raw.events (source_file, file_checksum, line_number, payload, parse_error) "
                    "values (?, ?, ?, ?, 'malformed_row')",
                    [path.name, dig.strip("'"), line, csv_line])
