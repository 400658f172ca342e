"""Land raw event files (SPEC §2) into the Spark table `raw.events`: the rules of
orchestration/landing.py (read it first), with Spark's own readers and Spark SQL.

Per new file, in name order: the file is read by Spark (text for JSON Lines and CSV, so that
every line keeps its number and its original text; Parquet by its reader), typed, checked and
deduplicated against every event landed before it in one query, appended to `raw.events`, then
its manifest row is appended to `raw.landing_files`. No Python touches an event.

The same rules and reason codes as DuckDB's landing; where Spark's functions differ:
- JSON is read as Spark VARIANT (`try_parse_json`): numbers keep their digits (a timestamp of
  Unix seconds `1791540000.5` reads as written). `properties` keep their JSON text, compact, keys
  in their order (`get_json_object`, which writes a number with an exponent or a fraction as a
  double: `1.7915400005E9`); "the same content" compares the variants' JSON, keys sorted
  (DuckDB: sorted map entries).
- the dedup key is two Spark `xxhash64` values (DuckDB: two `hash` values), compared only
  within one engine's warehouse.
- CSV is parsed a line at a time (`from_csv`): a quoted field holding a line break is not
  supported (its lines are `malformed_row`); DuckDB's reader joins them.
- a line that is not UTF-8 shows U+FFFD for its bad bytes (DuckDB: `\\xNN`).
- an unreadable file's reason is Spark's error message.

Appends are not transactional: a file's events are appended before its manifest row, and a run
first drops events whose load sequence has no manifest row (a run killed in between), so such a
file lands again, whole (docs/decisions.md, section 19)."""
from __future__ import annotations

from pathlib import Path

from orchestration.engines.spark.session import rewrite
from orchestration.landing import (
    FIELDS,
    FORMAT_NAMES,
    FORMATS,
    LandingResult,
    _csv_header,
    checked_cte,
    checksum,
    dedup_ctes,
)

EVENTS_DDL = """create table if not exists raw.events (
    load_sequence bigint, source_file string, file_checksum string, line_number bigint,
    transaction_id string, external_customer_id string, external_subscription_id string,
    billable_metric_code string, event_timestamp string, event_at timestamp, properties string,
    rejection_reason string, rejection_detail string,
    dedup_key bigint, dedup_key_2 bigint, dedup_status string,
    first_source_file string, first_line_number bigint, payload string,
    precise_total_amount_cents decimal(38, 15)) using parquet"""
# Lago's dynamic pricing amount, as DuckDB's landing (orchestration/landing.py: PRECISE_AMOUNT)
PRECISE_AMOUNT = "decimal(38, 15)"
PRECISE_AMOUNT_PATTERN = "^-?[0-9]{1,23}([.][0-9]{1,15})?$"
FILES_DDL = """create table if not exists raw.landing_files (
    file_name string, checksum string, file_format string, rows_loaded bigint, load_sequence bigint,
    rejection_reason string, rejection_detail string) using parquet"""

# ISO-8601 with T or a space, optional seconds and fraction
ISO = "[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}(:[0-9]{2}([.][0-9]*)?)?"
ZONE = "(Z|[+-][0-9]{2}(:?[0-9]{2})?| [A-Za-z_]+(/[A-Za-z0-9_+-]+)+)"


def parse_timestamp(t: str) -> str:
    """The forms DuckDB's landing accepts (orchestration/landing.py PARSE_TIMESTAMP): Unix
    seconds; ISO without a zone is UTC (the session's zone); with an offset or a zone name, the
    instant it names. Spark's cast accepts more (a `UTC` suffix, a lowercase `z`) than DuckDB's:
    the patterns gate it."""
    return (f"case when {t} rlike '^-?[0-9]{{1,12}}([.][0-9]+)?$' "
            f"then timestamp_micros(cast(round(cast({t} as decimal(24, 9)) * 1000000) as bigint)) "
            f"when {t} rlike '^[0-9]{{4}}-[0-9]{{2}}-[0-9]{{2}}$' or {t} rlike '^{ISO}$' "
            f"then try_cast(replace({t}, ' ', 'T') as timestamp) "
            f"when {t} rlike '^{ISO}{ZONE}$' then try_cast(regexp_replace({t}, '^([0-9-]+) ', '$1T') as timestamp) "
            "end")


JSON_OBJECT = "(coalesce(ltrim({x}) like '{{%', false) and try_parse_json({x}) is not null)"


def _lit(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def load(spark, folder: Path) -> LandingResult:
    """Load every new file of `folder` in name order; a file already in the manifest is skipped."""
    spark.sql(EVENTS_DDL)
    spark.sql(FILES_DDL)
    _drop_unrecorded(spark)
    folder = Path(folder)
    files = sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in FORMATS) \
        if folder.exists() else []
    known = {r[1]: r[0] for r in spark.sql("select file_name, checksum from raw.landing_files").collect()}
    seq = spark.sql("select coalesce(max(load_sequence), 0) from raw.landing_files").first()[0]
    result = LandingResult([], [])
    for path in files:
        digest = checksum(path)
        if digest in known:
            result.skipped.append((path.name, known[digest]))
            continue
        seq += 1
        fmt = FORMATS[path.suffix.lower()]
        try:
            n = _land_file(spark, path, fmt, digest, seq)
            why = None
        except Exception as exc:  # noqa: BLE001 (Spark raises many kinds; the message is kept)
            why = _unreadable(spark, path, fmt, exc)
        if why is not None:
            n = _quarantine_file(spark, path, fmt, digest, seq, why)
        known[digest] = path.name
        result.loaded.append((path.name, n))
    return result


def _drop_unrecorded(spark) -> None:
    """Events of a file whose manifest row was never written (a run killed between the two
    appends): dropped, so the file lands again, whole."""
    stray = spark.sql("select count(*) from raw.events where load_sequence > "
                      "(select coalesce(max(load_sequence), 0) from raw.landing_files)").first()[0]
    if stray:
        rewrite(spark, "raw.events", "select * from raw.events where load_sequence <= "
                "(select coalesce(max(load_sequence), 0) from raw.landing_files)")


def _numbered(df):
    """`df` (one file, as read) with `__line`, each row's number in the file (1-based), without
    moving the rows: monotonically_increasing_id is the partition index in the upper 31 bits and
    the row's number in its partition in the lower 33, and one file's partitions are its splits
    in file order; a partition's first number is the rows of the partitions before it (one row
    per partition comes back to the driver)."""
    from pyspark.sql import functions as F
    df = df.withColumn("__pid", F.spark_partition_id()).withColumn("__mid", F.monotonically_increasing_id())
    counts = sorted(tuple(r) for r in df.groupBy("__pid").count().collect())
    offsets, before = [], 0
    for pid, n in counts:
        offsets.append((pid, before))
        before += n
    starts = df.sparkSession.createDataFrame(offsets or [(0, 0)], "__pid int, __before bigint")
    return df.join(F.broadcast(starts), "__pid").withColumn(
        "__line", F.col("__before") + F.col("__mid") - F.shiftleft(F.col("__pid").cast("bigint"), 33) + 1)


def _numbered_lines(spark, path: Path):
    """Every line of a text file with its number (1-based), CRs removed, a BOM opening it dropped."""
    df = _numbered(spark.read.option("lineSep", "\n").text(str(path)))
    return df.selectExpr("__line as line_number", "case when __line = 1 then regexp_replace(replace(value, '\\r', ''), "
                         "'^\\uFEFF', '') else replace(value, '\\r', '') end as line")


def _jsonl_stage(spark, path: Path) -> str:
    _numbered_lines(spark, path).createOrReplaceTempView("tally_lines")
    get = "try_variant_get(j, '$.{f}', 'string')"
    props = ("case when j is null then null "
             "when is_variant_null(variant_get(j, '$.properties')) then 'null' "
             "when schema_of_variant(variant_get(j, '$.properties')) = 'STRING' "
             "then variant_get(j, '$.properties', 'string') "
             "else get_json_object(payload, '$.properties') end")
    return f"""
    with parsed as (
        select line_number, not_utf8, payload,
               case when not not_utf8 and coalesce(ltrim(payload) like '{{%', false)
                    then try_parse_json(payload) end as j
        from (select line_number, not is_valid_utf8(line) as not_utf8, make_valid_utf8(line) as payload
              from tally_lines)
        where trim(BOTH ' \t' FROM payload) <> ''
    )
    select line_number, payload,
           case when not_utf8 then 'not_utf8' when j is null then 'malformed_json' end as parse_error,
           {get.format(f='transaction_id')} as transaction_id,
           {get.format(f='external_customer_id')} as external_customer_id,
           {get.format(f='external_subscription_id')} as external_subscription_id,
           {get.format(f='code')} as code,
           {get.format(f='timestamp')} as event_timestamp,
           {props} as properties,
           {get.format(f='precise_total_amount_cents')} as precise_total_amount_cents,
           cast(null as timestamp) as event_at_typed
    from parsed"""


def _text(name: str, dtype) -> str:
    """A column of any type as text (structs and maps as JSON, numbers as written)."""
    from pyspark.sql import types as T
    col = f"`{name}`"
    if isinstance(dtype, (T.StructType, T.MapType, T.ArrayType)):
        return f"to_json({col})"
    if isinstance(dtype, (T.DoubleType, T.FloatType)):
        return f"case when isnan({col}) then 'nan' else cast(try_cast({col} as decimal(38, 9)) as string) end"
    if isinstance(dtype, (T.TimestampType, T.TimestampNTZType)):
        return f"date_format({col}, \"yyyy-MM-dd'T'HH:mm:ss.SSSSSS'Z'\")"
    return f"cast({col} as string)"


def _parquet_stage(spark, path: Path) -> str:
    from pyspark.sql import functions as F
    from pyspark.sql import types as T
    df = spark.read.parquet(str(path))
    types = {f.name: f.dataType for f in df.schema.fields}
    payload = "to_json(struct(*), map('ignoreNullFields', 'false'))"
    df = _numbered(df.withColumn("__tally_payload", F.expr(payload)))
    # numbered as CSV rows are (the first row is line 2), as on DuckDB
    df.withColumn("__line", F.col("__line") + 1).createOrReplaceTempView("tally_rows")
    cols = []
    for field in FIELDS:
        alias = "event_timestamp" if field == "timestamp" else field
        dtype = types.get(field)
        if dtype is None or (field == "timestamp" and isinstance(dtype, (T.TimestampType, T.TimestampNTZType))):
            cols.append(f"cast(null as string) as {alias}")
        else:
            cols.append(f"{_text(field, dtype)} as {alias}")
    ts = types.get("timestamp")
    typed = ("cast(`timestamp` as timestamp)" if isinstance(ts, (T.TimestampType, T.TimestampNTZType))
             else "cast(null as timestamp)")
    return f"""
    select __line as line_number, __tally_payload as payload, cast(null as string) as parse_error,
           {', '.join(cols)}, {typed} as event_at_typed
    from tally_rows"""


class Unreadable(Exception):
    pass


def _csv_stage(spark, path: Path) -> str | None:
    columns = _csv_header(path)
    if not columns:
        if path.read_bytes().strip():
            raise Unreadable("its first line is not a CSV header")
        return None
    _numbered_lines(spark, path).createOrReplaceTempView("tally_lines")
    names = [f"c{i}" for i in range(len(columns) + 1)]  # one more: a row with too many fields fills it
    schema = ", ".join(f"{n} string" for n in names)
    # a field left out is null, an empty one '' (nullValue is a character no CSV holds)
    options = "map('nullValue', '\\u0000', 'mode', 'PERMISSIVE', 'escape', '\"')"
    fields = {name: f"r.c{i}" for i, name in enumerate(columns)}

    def field(name: str) -> str:
        return f"nullif({fields[name]}, '')" if name in fields else "cast(null as string)"
    as_json = ("to_json(named_struct(" + ", ".join(f"{_lit(c)}, nullif(r.c{i}, '')" for i, c in enumerate(columns))
               + "), map('ignoreNullFields', 'false'))")
    malformed = f"(r.{names[-2]} is null or r.{names[-1]} is not null)"
    return f"""
    with rows as (
        select line_number, line, from_csv(line, '{schema}', {options}) as r
        from tally_lines where line_number > 1 and trim(line) <> ''
    )
    select line_number,
           case when {malformed} then line else {as_json} end as payload,
           case when {malformed} then 'malformed_row' end as parse_error,
           {field('transaction_id')} as transaction_id, {field('external_customer_id')} as external_customer_id,
           {field('external_subscription_id')} as external_subscription_id, {field('code')} as code,
           {field('timestamp')} as event_timestamp, {field('properties')} as properties,
           {field('precise_total_amount_cents')} as precise_total_amount_cents,
           cast(null as timestamp) as event_at_typed
    from rows"""


def _typed_insert(stage: str, sequence: int, name: str, digest: str) -> str:
    """One statement: text rows of one file -> typed rows of raw.events, deduplicated against
    every earlier file (by key) and within the file (by line), as orchestration/landing.py."""
    same = (" k.external_customer_id <=> coalesce(e.external_customer_id, f.external_customer_id)"
            " and k.external_subscription_id <=> coalesce(e.external_subscription_id, f.external_subscription_id)"
            " and k.billable_metric_code = coalesce(e.billable_metric_code, f.billable_metric_code)"
            " and k.event_at = coalesce(e.event_at, f.event_at)"
            f" and try_cast(k.precise_total_amount_cents as {PRECISE_AMOUNT})"
            " <=> coalesce(e.precise_total_amount_cents, f.precise_total_amount_cents)"
            " and (k.properties = coalesce(e.properties, f.properties)"
            " or to_json(try_parse_json(k.properties))"
            " = to_json(try_parse_json(coalesce(e.properties, f.properties))))")
    scope = "coalesce('sub:' || external_subscription_id, 'cus:' || external_customer_id)"
    checked = checked_cte(JSON_OBJECT.format(x="properties_text"),
                          f"(precise_total_amount_cents rlike '{PRECISE_AMOUNT_PATTERN}')")
    return f"""
    insert into raw.events
    with stage as ({stage}),
    trimmed as (
        select line_number, payload, parse_error, event_at_typed,
            nullif(trim(transaction_id), '') as transaction_id,
            nullif(trim(external_customer_id), '') as external_customer_id,
            nullif(trim(external_subscription_id), '') as external_subscription_id,
            nullif(trim(event_timestamp), '') as event_timestamp,
            coalesce(nullif(trim(properties), ''), '{{}}') as properties_text,
            nullif(trim(precise_total_amount_cents), '') as precise_total_amount_cents,
            nullif(trim(code), '') as billable_metric_code
        from stage
    ),
    parsed as (
        select *, coalesce(event_at_typed, {parse_timestamp('event_timestamp')}) as event_at,
               properties_text as properties
        from trimmed
    ),
    {checked},
    keyed as (
        select *,
            case when rejection_reason is null then xxhash64({scope}, transaction_id) end as dedup_key,
            case when rejection_reason is null then xxhash64(transaction_id, '|', {scope}) end as dedup_key_2
        from checked
    ),
    {dedup_ctes(_lit(name), same)}
    select {sequence}, {_lit(name)}, {_lit(digest)}, line_number, transaction_id, external_customer_id,
        external_subscription_id, billable_metric_code,
        case when rejection_reason is not null then event_timestamp end, event_at, properties,
        rejection_reason, rejection_detail, dedup_key, dedup_key_2, dedup_status,
        case when dedup_status = 'conflicting_duplicate' then first_file end,
        case when dedup_status = 'conflicting_duplicate' then first_line end,
        case when rejection_reason is not null or dedup_status = 'conflicting_duplicate' then payload end,
        case when rejection_reason is null then try_cast(precise_total_amount_cents as {PRECISE_AMOUNT}) end
    from statused"""


def _land_file(spark, path: Path, fmt: str, digest: str, seq: int) -> int:
    """One file's rows, then its manifest row."""
    stage = {"jsonl": _jsonl_stage, "parquet": _parquet_stage, "csv": _csv_stage}[fmt](spark, path)
    if stage is not None:
        spark.sql(_typed_insert(stage, seq, path.name, digest))
    n = spark.sql(f"select count(*) from raw.events where load_sequence = {seq}").first()[0]
    spark.sql(f"insert into raw.landing_files values ({_lit(path.name)}, {_lit(digest)}, {_lit(fmt)}, {n}, {seq}, "
              "null, null)")
    return n


def _unreadable(spark, path: Path, fmt: str, exc: Exception) -> str | None:
    """Why the file cannot be read, or None when the failure is not the file's (the run stops)."""
    if isinstance(exc, Unreadable):
        return str(exc)
    if fmt != "parquet":
        raise exc
    try:
        spark.read.parquet(str(path)).count()
    except Exception as probe:  # noqa: BLE001
        return str(probe).replace(str(path), path.name).split("\n")[0]
    raise exc


def _quarantine_file(spark, path: Path, fmt: str, digest: str, seq: int, why: str) -> int:
    detail = _lit(f"The file cannot be read as {FORMAT_NAMES[fmt]}: {why}")
    spark.sql(f"insert into raw.events (load_sequence, source_file, file_checksum, rejection_reason, "
              f"rejection_detail) values ({seq}, {_lit(path.name)}, {_lit(digest)}, 'unreadable_file', {detail})")
    spark.sql(f"insert into raw.landing_files values ({_lit(path.name)}, {_lit(digest)}, {_lit(fmt)}, 1, {seq}, "
              f"'unreadable_file', {detail})")
    return 1
