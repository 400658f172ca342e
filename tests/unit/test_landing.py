"""Landing: events typed once, duplicates decided in the order files were landed."""
from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from orchestration import landing


def event(tx: str, tokens: int, ts: str = "2026-10-05T10:00:00Z", sub: str = "sub_a") -> str:
    return json.dumps({"transaction_id": tx, "external_subscription_id": sub, "code": "tokens",
                       "timestamp": ts, "properties": {"tokens": tokens, "model": "large"}})


def statuses(con: duckdb.DuckDBPyConnection) -> list[tuple]:
    return con.execute("""select source_file, line_number, transaction_id, dedup_status, first_source_file,
                                 first_line_number, rejection_reason
                          from raw.events order by load_sequence, line_number""").fetchall()


def test_late_file_with_an_earlier_name_does_not_change_the_accepted_copy(tmp_path: Path):
    folder = tmp_path / "landing"
    folder.mkdir()
    (folder / "m_day1.jsonl").write_text(event("t1", 100) + "\n" + event("t2", 5) + "\n")
    con = duckdb.connect()
    landing.load(con, folder)
    # landed later, named earlier: by name order it would come first and win
    (folder / "a_resent.jsonl").write_text(event("t1", 999) + "\n" + event("t2", 5) + "\n" + event("t3", 7) + "\n")
    landing.load(con, folder)
    assert statuses(con) == [
        ("m_day1.jsonl", 1, "t1", "accepted", None, None, None),
        ("m_day1.jsonl", 2, "t2", "accepted", None, None, None),
        ("a_resent.jsonl", 1, "t1", "conflicting_duplicate", "m_day1.jsonl", 1, None),
        ("a_resent.jsonl", 2, "t2", "duplicate", None, None, None),
        ("a_resent.jsonl", 3, "t3", "accepted", None, None, None),
    ]
    assert con.execute("select load_sequence, file_name from raw.landing_files order by 1").fetchall() == [
        (1, "m_day1.jsonl"), (2, "a_resent.jsonl")]


def test_one_batch_lands_in_name_order_and_first_line_wins(tmp_path: Path):
    folder = tmp_path / "landing"
    folder.mkdir()
    (folder / "b.jsonl").write_text(event("t1", 1) + "\n")
    # same transaction twice in one file: line 1 wins; properties keys in another order are the same content
    same = json.dumps({"external_subscription_id": "sub_a", "transaction_id": "t2", "code": "tokens",
                       "timestamp": "2026-10-05T10:00:00Z", "properties": {"model": "large", "tokens": 3}})
    (folder / "a.jsonl").write_text(event("t1", 2) + "\n" + event("t2", 3) + "\n" + same + "\n")
    con = duckdb.connect()
    landing.load(con, folder)
    assert statuses(con) == [
        ("a.jsonl", 1, "t1", "accepted", None, None, None),
        ("a.jsonl", 2, "t2", "accepted", None, None, None),
        ("a.jsonl", 3, "t2", "duplicate", None, None, None),
        ("b.jsonl", 1, "t1", "conflicting_duplicate", "a.jsonl", 1, None),
    ]


def test_scope_is_per_subscription_and_rejected_rows_keep_their_payload(tmp_path: Path):
    folder = tmp_path / "landing"
    folder.mkdir()
    bad = '{"transaction_id": "t9", "external_subscription_id": "sub_a", "code": "tokens", "timestamp": "soon"}'
    (folder / "a.jsonl").write_text(event("t1", 1) + "\n" + event("t1", 2, sub="sub_b") + "\n" + bad + "\n")
    con = duckdb.connect()
    landing.load(con, folder)
    got = con.execute("select transaction_id, dedup_status, rejection_reason, payload is not null "
                      "from raw.events order by line_number").fetchall()
    assert got == [("t1", "accepted", None, False), ("t1", "accepted", None, False),
                   ("t9", None, "bad_timestamp", True)]
    assert con.execute("select payload from raw.events where line_number = 3").fetchone()[0] == bad


def test_a_warehouse_landed_as_text_is_migrated_with_the_same_decisions(tmp_path: Path):
    con = duckdb.connect()
    con.execute("""
        create schema raw;
        create table raw.landing_files (file_name varchar, checksum varchar, file_format varchar,
                                        rows_loaded bigint, load_sequence bigint);
        create table raw.events (source_file varchar, file_checksum varchar, line_number bigint, payload varchar,
            parse_error varchar, transaction_id varchar, external_customer_id varchar,
            external_subscription_id varchar, code varchar, event_timestamp varchar, properties varchar);
        insert into raw.landing_files values ('b.jsonl', 'cb', 'jsonl', 1, 1), ('a.jsonl', 'ca', 'jsonl', 1, 2);
        insert into raw.events values
            ('b.jsonl', 'cb', 1, 'x', null, 't1', null, 'sub_a', 'tokens', '2026-10-05T10:00:00Z', '{"tokens": 1}'),
            ('a.jsonl', 'ca', 1, 'y', null, 't1', null, 'sub_a', 'tokens', '1791194400', '{"tokens": 2}');
    """)
    landing.load(con, tmp_path / "nothing_new")
    got = con.execute("select load_sequence, source_file, dedup_status, event_at, payload from raw.events "
                      "order by 1").fetchall()
    assert [(s, f, d, str(t), p) for s, f, d, t, p in got] == [
        (1, "b.jsonl", "accepted", "2026-10-05 10:00:00", None),
        (2, "a.jsonl", "conflicting_duplicate", "2026-10-05 10:00:00", "y"),
    ]


def test_a_jsonl_file_lands_the_same_in_chunks_as_whole(tmp_path: Path, monkeypatch):
    """A large JSONL file is cut at line ends and landed chunk by chunk (bounded memory): line
    numbers, blank and CRLF lines, bad lines and duplicates across a cut come out as whole."""
    lines = [event("t1", 1), "", event("t2", 2) + "\r", "not json", event("t1", 1), "   ",
             event("t3", 3), event("t2", 9), event("t4", 4)]
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "e.jsonl").write_text("\n".join(lines))  # no newline after the last line
    whole = duckdb.connect()
    landing.load(whole, tmp_path / "in")
    monkeypatch.setattr(landing, "JSONL_CHUNK_BYTES", 150)  # about one event per chunk
    chunked = duckdb.connect()
    landing.load(chunked, tmp_path / "in")
    query = "select * exclude (payload), payload from raw.events order by line_number"
    assert chunked.execute(query).fetchall() == whole.execute(query).fetchall()
    assert statuses(chunked) == [
        ("e.jsonl", 1, "t1", "accepted", None, None, None),
        ("e.jsonl", 3, "t2", "accepted", None, None, None),
        ("e.jsonl", 4, None, None, None, None, "malformed_json"),
        ("e.jsonl", 5, "t1", "duplicate", None, None, None),
        ("e.jsonl", 7, "t3", "accepted", None, None, None),
        ("e.jsonl", 8, "t2", "conflicting_duplicate", "e.jsonl", 3, None),
        ("e.jsonl", 9, "t4", "accepted", None, None, None),
    ]
    chunks = list(landing._jsonl_chunks(tmp_path / "in" / "e.jsonl", tmp_path, 150))
    assert len(chunks) >= 5 and chunks[0][1] == 0


def test_properties_that_are_not_json_are_quarantined_not_a_crash(tmp_path: Path):
    # `{"tokens": -"many"}` is text a JSON parser raises on (json_valid says false, json_type throws):
    # in a JSONL line's string `properties`, a CSV column or a Parquet column, it is one quarantined row
    folder = tmp_path / "landing"
    folder.mkdir()
    bad = '{"tokens": -"many"}'
    line = json.dumps({"transaction_id": "t1", "external_subscription_id": "sub_a", "code": "tokens",
                       "timestamp": "2026-10-05T10:00:00Z", "properties": bad})
    (folder / "a.jsonl").write_text(line + "\n" + event("t2", 5) + "\n" + '{"transaction_id": -"x"}\n')
    (folder / "b.csv").write_text('transaction_id,external_subscription_id,code,timestamp,properties\n'
                                  f't3,sub_a,tokens,2026-10-05T10:00:00Z,"{bad.replace(chr(34), chr(34) * 2)}"\n'
                                  't4,sub_a,tokens,2026-10-05T10:00:00Z,"{""tokens"": 2}"\n')
    duckdb.sql(f"""copy (select * from (values ('t5', 'sub_a', 'tokens', '2026-10-05T10:00:00Z', '{bad}'),
                                              ('t6', 'sub_a', 'tokens', '2026-10-05T10:00:00Z', '{{"tokens": 3}}'))
                         t(transaction_id, external_subscription_id, code, timestamp, properties))
                   to '{folder / "c.parquet"}'""")
    con = duckdb.connect()
    landing.load(con, folder)
    assert con.execute("""select source_file, line_number, transaction_id, rejection_reason, dedup_status
                          from raw.events order by load_sequence, line_number""").fetchall() == [
        ("a.jsonl", 1, "t1", "malformed_json", None),
        ("a.jsonl", 2, "t2", None, "accepted"),
        ("a.jsonl", 3, None, "malformed_json", None),
        ("b.csv", 2, "t3", "malformed_json", None),
        ("b.csv", 3, "t4", None, "accepted"),
        ("c.parquet", 2, "t5", "malformed_json", None),
        ("c.parquet", 3, "t6", None, "accepted"),
    ]


# Regressions found by tests/test_fuzz_landing.py (issue 11, item 3)

def land_one(tmp_path: Path, name: str, data: bytes, con: duckdb.DuckDBPyConnection | None = None):
    folder = tmp_path / name.replace(".", "_")
    folder.mkdir()
    (folder / name).write_bytes(data)
    con = con or duckdb.connect()
    landing.load(con, folder)
    return con, con.execute("""select line_number, transaction_id, rejection_reason, rejection_detail, dedup_status,
                                      event_at, payload
                               from raw.events where source_file = ? order by line_number""", [name]).fetchall()


def test_a_jsonl_line_that_is_not_utf8_is_one_malformed_row(tmp_path: Path):
    # read_text refused the whole file: the run failed
    data = (event("t1", 1) + "\n").encode() + b'{"transaction_id": "t\xff\xfe"}\n' + (event("t2", 2) + "\n").encode()
    _, got = land_one(tmp_path, "a.jsonl", data)
    assert [(n, t, r, s) for n, t, r, _, s, _, _ in got] == [
        (1, "t1", None, "accepted"), (2, None, "malformed_json", None), (3, "t2", None, "accepted")]
    assert got[1][3] == "The line is not UTF-8 text (its bytes are shown escaped)."
    assert got[1][6] == '{"transaction_id": "t\\xff\\xfe"}'


def test_a_byte_order_mark_does_not_reject_the_first_line(tmp_path: Path):
    _, got = land_one(tmp_path, "a.jsonl", b"\xef\xbb\xbf" + (event("t1", 1) + "\n").encode())
    assert [(n, t, r, s) for n, t, r, _, s, _, _ in got] == [(1, "t1", None, "accepted")]


def test_a_line_of_tabs_is_blank(tmp_path: Path):
    _, got = land_one(tmp_path, "a.jsonl", (event("t1", 1) + "\n\t \t\n" + event("t2", 1) + "\n").encode())
    assert [(n, t, r) for n, t, r, *_ in got] == [(1, "t1", None), (3, "t2", None)]


def test_a_resent_event_whose_properties_repeat_a_key_is_compared_not_a_crash(tmp_path: Path):
    # cast(json as map) raised "Map keys must be unique" when a repeated id was compared
    line = ('{"transaction_id": "t1", "external_subscription_id": "sub_a", "code": "tokens", '
            '"timestamp": "2026-10-05T10:00:00Z", "properties": {"tokens": 1, "tokens": 2}}')
    other = line.replace('"tokens": 2}', '"tokens": 3}')
    _, got = land_one(tmp_path, "a.jsonl", f"{line}\n{line}\n{other}\n".encode())
    assert [(n, r, s) for n, _, r, _, s, _, _ in got] == [
        (1, None, "accepted"), (2, None, "duplicate"), (3, None, "conflicting_duplicate")]


def test_a_timestamp_without_zone_is_utc_whatever_the_session_zone(tmp_path: Path):
    con = duckdb.connect()
    con.execute("set TimeZone = 'Asia/Tokyo'")  # a timestamptz cast read zone-less text in this zone
    lines = [event("t1", 1, ts="2026-10-05T10:00:00"), event("t2", 1, ts="2026-10-05 10:00:00"),
             event("t3", 1, ts="2026-10-05"), event("t4", 1, ts="2026-10-05T10:00:00+02:00"),
             event("t5", 1, ts="2026-10-05 10:00:00 Europe/Paris")]
    _, got = land_one(tmp_path, "a.jsonl", ("\n".join(lines) + "\n").encode(), con)
    assert [(t, str(at)) for _, t, _, _, _, at, _ in got] == [
        ("t1", "2026-10-05 10:00:00"), ("t2", "2026-10-05 10:00:00"), ("t3", "2026-10-05 00:00:00"),
        ("t4", "2026-10-05 08:00:00"), ("t5", "2026-10-05 08:00:00")]


CSV_HEADER = "transaction_id,external_subscription_id,code,timestamp,properties\n"


def csv_row(tx: str) -> str:
    return f'{tx},sub_a,tokens,2026-10-05T10:00:00Z,"{{""tokens"": 1}}"\n'


def test_csv_rows_keep_their_own_numbers_around_rejected_rows(tmp_path: Path):
    # rows after a rejected one took its number (row_number over the rows read), and a row
    # with several errors was quarantined once per error
    data = CSV_HEADER + csv_row("c1") + "short,row\n" + '"c\n3",sub_a,tokens,2026-10-05T10:00:00Z,{}\n' + csv_row("c4")
    _, got = land_one(tmp_path, "a.csv", data.encode())
    assert [(n, t, r) for n, t, r, *_ in got] == [
        (2, "c1", None), (3, None, "malformed_row"), (4, "c\n3", None), (5, "c4", None)]
    assert got[1][6] == "short,row"


def test_csv_rejects_of_one_file_are_not_landed_again_with_the_next(tmp_path: Path):
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a.csv").write_text(CSV_HEADER + csv_row("a1") + "bad\n")
    (folder / "b.csv").write_text(CSV_HEADER + csv_row("b1"))
    con = duckdb.connect()
    landing.load(con, folder)
    assert con.execute("select source_file, line_number, transaction_id, rejection_reason from raw.events "
                       "order by 1, 2").fetchall() == [
        ("a.csv", 2, "a1", None), ("a.csv", 3, None, "malformed_row"), ("b.csv", 2, "b1", None)]


def test_csv_dialect_is_not_guessed(tmp_path: Path):
    # the sniffer raised on this file (quoted newline, unterminated quote) or, elsewhere, picked
    # another quote and rejected every row; the file is RFC 4180 with a comma
    data = (CSV_HEADER + csv_row("c1") + '"c\n2",sub_a,tokens,2026-10-05T10:00:00Z,"{""a;b|c"": 1}"\n'
            + 'c3,"sub_a,tokens\n')
    _, got = land_one(tmp_path, "a.csv", data.encode())
    assert [(n, t, r) for n, t, r, *_ in got] == [(2, "c1", None), (3, "c\n2", None), (4, None, "malformed_row")]


def test_a_csv_column_named_src_does_not_replace_the_payload(tmp_path: Path):
    data = "src," + CSV_HEADER + "x,c1,sub_a,tokens,soon,{}\n"
    _, got = land_one(tmp_path, "a.csv", data.encode())
    assert [(t, r) for _, t, r, *_ in got] == [("c1", "bad_timestamp")]
    assert json.loads(got[0][6])["src"] == "x" and json.loads(got[0][6])["transaction_id"] == "c1"


@pytest.mark.parametrize("name,data,why", [
    ("empty.parquet", b"", "too small to be a Parquet file"),
    ("garbage.parquet", b"PAR1" + bytes(100) + b"PAR1", "Footer length error"),
    ("cr.csv", (CSV_HEADER + "c\rid,sub_a,tokens,2026-10-05T10:00:00Z,{}\n").encode(), "state machine"),
    ("noheader.csv", b"\n" + csv_row("c1").encode(), "its first line is not a CSV header"),
])
def test_a_file_the_reader_cannot_open_is_quarantined_as_a_file(tmp_path: Path, name, data, why):
    # the reader's error failed the run
    con, got = land_one(tmp_path, name, data)
    assert [(n, t, r, s, p) for n, t, r, _, s, _, p in got] == [(None, None, "unreadable_file", None, None)]
    assert got[0][3].startswith("The file cannot be read as ") and why in got[0][3]
    manifest = con.execute("select rows_loaded, rejection_reason, rejection_detail from raw.landing_files").fetchall()
    assert manifest == [(1, "unreadable_file", got[0][3])]
    assert landing.load(con, tmp_path / name.replace(".", "_")).loaded == []  # the same bytes: not tried again


def test_the_manifest_of_an_older_warehouse_gains_the_quarantine_columns(tmp_path: Path):
    con = duckdb.connect()
    con.execute("create schema raw; create table raw.landing_files (file_name varchar, checksum varchar, "
                "file_format varchar, rows_loaded bigint, load_sequence bigint); "
                "insert into raw.landing_files values ('old.jsonl', 'c0', 'jsonl', 0, 1)")
    _, got = land_one(tmp_path, "bad.parquet", b"nope", con)
    assert got[0][2] == "unreadable_file"
    manifest = con.execute("select file_name, load_sequence, rejection_reason from raw.landing_files order by 2")
    assert manifest.fetchall() == [("old.jsonl", 1, None), ("bad.parquet", 2, "unreadable_file")]


def test_a_parquet_file_with_its_own_file_row_number_column_lands(tmp_path: Path):
    # read_parquet(file_row_number=true) raised a binder error and the file was taken as unreadable
    folder = tmp_path / "in"
    folder.mkdir()
    duckdb.sql(f"""copy (select * from (values ('t1', 70), ('t2', 80)) t(transaction_id, file_row_number),
                         (select 'sub_a' as external_subscription_id, 'tokens' as code,
                                 timestamp '2026-10-05 10:00:00' as timestamp, '{{}}' as properties))
                   to '{folder / "a.parquet"}'""")
    con = duckdb.connect()
    landing.load(con, folder)
    assert con.execute("select line_number, transaction_id, rejection_reason, dedup_status from raw.events "
                       "order by 1").fetchall() == [(2, "t1", None, "accepted"), (3, "t2", None, "accepted")]


def test_a_rejected_parquet_row_keeps_its_own_columns_only(tmp_path: Path):
    # the payload is the row as sent: DuckDB's reader column file_row_number was in it (Spark's
    # landing never had it; found by the parity of a Parquet world with bad rows)
    folder = tmp_path / "in"
    folder.mkdir()
    duckdb.sql(f"""copy (select 'tx_1' as transaction_id, 'sub_a' as external_subscription_id, 'llm' as code,
                                'yesterday' as timestamp, '{{"t": 1}}' as properties,
                                '0.6465' as precise_total_amount_cents)
                   to '{folder / "a.parquet"}'""")
    con = duckdb.connect()
    landing.load(con, folder)
    assert con.execute("select line_number, rejection_reason, payload from raw.events").fetchall() == [
        (2, "bad_timestamp", ('{"transaction_id":"tx_1","external_subscription_id":"sub_a","code":"llm",'
                              '"timestamp":"yesterday","properties":"{\\"t\\": 1}",'
                              '"precise_total_amount_cents":"0.6465"}'))]


# ---------------------------------------------------------------- precise_total_amount_cents (dynamic charges)

def amounts(con: duckdb.DuckDBPyConnection) -> list[tuple]:
    return [(f, n, None if a is None else str(a), r, d) for f, n, a, r, d in con.execute(
        "select source_file, line_number, precise_total_amount_cents, rejection_reason, dedup_status "
        "from raw.events order by load_sequence, line_number").fetchall()]


def test_precise_total_amount_cents_lands_as_a_decimal_from_jsonl_csv_and_parquet(tmp_path: Path):
    """Lago's top-level event field: a JSON number or numeric string, a CSV column, a Parquet
    string, DECIMAL or DOUBLE column; absent, null or blank is none; anything else (exponents,
    words, more than 15 decimals) is non_numeric_value."""
    folder = tmp_path / "in"
    folder.mkdir()
    base = {"external_subscription_id": "sub_a", "code": "llm", "timestamp": "2026-10-05T10:00:00Z", "properties": {}}
    lines = [{**base, "transaction_id": "j1", "precise_total_amount_cents": "123.456"},
             {**base, "transaction_id": "j2", "precise_total_amount_cents": 100.0},
             {**base, "transaction_id": "j3", "precise_total_amount_cents": None},
             {**base, "transaction_id": "j4"},
             {**base, "transaction_id": "j5", "precise_total_amount_cents": "-0.5"},
             {**base, "transaction_id": "j6", "precise_total_amount_cents": "1e3"},
             {**base, "transaction_id": "j7", "precise_total_amount_cents": "twelve"},
             {**base, "transaction_id": "j8", "precise_total_amount_cents": "0.1234567890123456"}]
    (folder / "a.jsonl").write_text("".join(json.dumps(line) + "\n" for line in lines))
    (folder / "b.csv").write_text("transaction_id,external_subscription_id,code,timestamp,properties,"
                                  "precise_total_amount_cents\n"
                                  "c1,sub_a,llm,2026-10-05,{},0.5\nc2,sub_a,llm,2026-10-05,{}, \n"
                                  "c3,sub_a,llm,2026-10-05,{},12,5\n")
    duckdb.sql(f"""copy (select * from (values ('p1', '7.25', 12.25::decimal(10, 2), 0.5::double),
                                              ('p2', null, null, null)) t(transaction_id, a, b, c),
                         (select 'sub_a' as external_subscription_id, 'llm' as code,
                                 '2026-10-05' as timestamp, '{{}}' as properties))
                   to '{tmp_path / "p.parquet"}'""")
    for col in ("a", "b", "c"):
        duckdb.sql(f"""copy (select * exclude (transaction_id, a, b, c), transaction_id || '{col}' as transaction_id,
                                    {col} as precise_total_amount_cents
                             from '{tmp_path / "p.parquet"}') to '{folder / f"p_{col}.parquet"}'""")
    con = duckdb.connect()
    landing.load(con, folder)
    def dec(text: str) -> str:
        return str(Decimal(text).quantize(Decimal("1e-15")))
    assert amounts(con) == [
        ("a.jsonl", 1, dec("123.456"), None, "accepted"), ("a.jsonl", 2, dec("100"), None, "accepted"),
        ("a.jsonl", 3, None, None, "accepted"), ("a.jsonl", 4, None, None, "accepted"),
        ("a.jsonl", 5, dec("-0.5"), None, "accepted"), ("a.jsonl", 6, None, "non_numeric_value", None),
        ("a.jsonl", 7, None, "non_numeric_value", None), ("a.jsonl", 8, None, "non_numeric_value", None),
        ("b.csv", 2, dec("0.5"), None, "accepted"), ("b.csv", 3, None, None, "accepted"),
        ("b.csv", 4, None, "malformed_row", None),
        ("p_a.parquet", 2, dec("7.25"), None, "accepted"), ("p_a.parquet", 3, None, None, "accepted"),
        ("p_b.parquet", 2, dec("12.25"), None, "accepted"), ("p_b.parquet", 3, None, None, "accepted"),
        ("p_c.parquet", 2, dec("0.5"), None, "accepted"), ("p_c.parquet", 3, None, None, "accepted"),
    ]
    detail = con.execute("select rejection_detail from raw.events where line_number = 7 and source_file = 'a.jsonl'")
    assert detail.fetchone()[0] == ("precise_total_amount_cents twelve is not a decimal number (-?digits[.digits], "
                                    "at most 23 digits before the point and 15 after).")


def test_a_resent_event_with_another_amount_is_a_conflicting_duplicate(tmp_path: Path):
    folder = tmp_path / "in"
    folder.mkdir()
    base = {"transaction_id": "t1", "external_subscription_id": "sub_a", "code": "llm",
            "timestamp": "2026-10-05T10:00:00Z", "properties": {}}
    (folder / "a.jsonl").write_text(json.dumps({**base, "precise_total_amount_cents": "10.5"}) + "\n"
                                    + json.dumps({**base, "precise_total_amount_cents": 10.50}) + "\n"
                                    + json.dumps({**base, "precise_total_amount_cents": "10.6"}) + "\n"
                                    + json.dumps(base) + "\n")
    con = duckdb.connect()
    landing.load(con, folder)
    assert [(n, s) for _, n, _, _, s in amounts(con)] == [
        (1, "accepted"), (2, "duplicate"), (3, "conflicting_duplicate"), (4, "conflicting_duplicate")]
