"""Broken landing files, generated deterministically from a seed (issue 11, item 3).

`generate(seed, count)` returns FuzzFile objects: the bytes of a JSONL, CSV or Parquet file and,
row by row, what the landing must make of it. Every broken file mixes good rows (an event the
small catalog bills: sub_a, tokens or api_calls, October 2026) with the broken ones, so a test
can check that the good rows of a file survive whatever else is in it.

Expectations per row (`Row.kind`):
- "good": accepted at landing (dedup_status 'accepted'), at the instant `at` (UTC);
- "bad": rejected at landing with one of `reasons`;
- "any": odd but possibly valid (e.g. `1e400` in properties): it lands as a row, accepted or
  rejected with a reason; it is never lost.
A file whose reader cannot open it at all is `unreadable`: it is recorded as a quarantined file.
"""
from __future__ import annotations

import csv
import io
import json
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone

import duckdb

OCT = datetime(2026, 10, 1, tzinfo=UTC)


@dataclass
class Row:
    tx: str | None
    kind: str  # good | bad | any
    at: datetime | None = None  # good rows: the instant expected in raw.events.event_at (naive UTC)
    reasons: tuple[str, ...] = ()  # bad rows: the allowed rejection reasons


@dataclass
class FuzzFile:
    name: str
    data: bytes
    rows: list[Row] = field(default_factory=list)
    unreadable: bool = False
    exact: bool = True  # one raw.events row per Row, in order (else: at least the good and bad rows)
    what: str = ""


# Timestamp forms: (JSON value, expected UTC instant or None for bad_timestamp)
def timestamp_forms(base: datetime) -> list[tuple[object, datetime | None, str]]:
    epoch = int(base.timestamp())
    local = base.astimezone(timezone(timedelta(hours=5, minutes=30)))
    west = base.astimezone(timezone(timedelta(hours=-8)))
    return [
        (base.strftime("%Y-%m-%dT%H:%M:%SZ"), base, "iso Z"),
        (base.strftime("%Y-%m-%dT%H:%M:%S.123456Z"), base + timedelta(microseconds=123456), "iso Z micros"),
        (local.strftime("%Y-%m-%dT%H:%M:%S+05:30"), base, "offset +05:30"),
        (local.strftime("%Y-%m-%dT%H:%M:%S+0530"), base, "offset +0530"),
        (west.strftime("%Y-%m-%dT%H:%M:%S-08:00"), base, "offset -08:00"),
        (base.strftime("%Y-%m-%dT%H:%M:%S"), base, "no zone: UTC"),
        (base.strftime("%Y-%m-%d %H:%M:%S"), base, "space, no zone: UTC"),
        (base.strftime("%Y-%m-%d %H:%M:%S+00:00"), base, "space, offset"),
        (base.strftime("%Y-%m-%d"), base.replace(hour=0, minute=0, second=0), "date only: midnight UTC"),
        (epoch, base, "epoch seconds int"),
        (str(epoch), base, "epoch seconds text"),
        (epoch + 0.5, base + timedelta(milliseconds=500), "epoch seconds float"),
        (epoch * 1000, None, "epoch milliseconds: rejected"),
        (str(epoch * 1000), None, "epoch milliseconds text: rejected"),
        ("1970-01-01T00:00:00Z", datetime(1970, 1, 1, tzinfo=UTC), "1970"),
        (0, datetime(1970, 1, 1, tzinfo=UTC), "epoch 0"),
        (-1, datetime(1969, 12, 31, 23, 59, 59, tzinfo=UTC), "epoch -1"),
        ("2100-01-01T00:00:00Z", datetime(2100, 1, 1, tzinfo=UTC), "2100"),
        ("2100-12-31T23:59:59+00:00", datetime(2100, 12, 31, 23, 59, 59, tzinfo=UTC), "2100 end"),
        ("soon", None, "word"),
        ("2026-13-01T00:00:00Z", None, "month 13"),
        ("2026-10-05T25:00:00Z", None, "hour 25"),
        ("2026-10-05T10:00:00z", None, "lowercase z"),
        ("1e400", None, "1e400 text"),
        ("NaN", None, "NaN text"),
        ("٣", None, "arabic digit"),
        ("-0", datetime(1970, 1, 1, tzinfo=UTC), "-0 seconds"),
    ]


NASTY_IDS = [
    'quote"double', "quote'single", "new\nline", "cr\rreturn", "../../etc/passwd", "..\\..\\boot.ini",
    "'; drop table raw.events; --", "1 or 1=1", "<script>alert(1)</script>", "<b>&amp;</b>", "tab\tid",
    "ünïcødé-ид-标识", "emoji-🧾", "x" * 5000, "comma,id", "semi;colon", "back\\slash", "%s%n%x", "null",
    "NULL", " spaced ", "{\"json\": 1}",
]


class Gen:
    def __init__(self, seed: int, file_index: int):
        self.rnd = random.Random(seed * 100_003 + file_index)
        self.prefix = f"s{seed}f{file_index}"
        self.n = 0

    def tx(self, hint: str = "") -> str:
        self.n += 1
        return f"{self.prefix}-{hint}{self.n}"

    def instant(self) -> datetime:
        return OCT + timedelta(seconds=self.rnd.randrange(0, 30 * 86400))

    def good_event(self, **over) -> tuple[dict, Row]:
        at = self.instant()
        code = self.rnd.choice(["tokens", "api_calls"])
        props = {"tokens": self.rnd.randrange(1, 500), "model": "small"} if code == "tokens" else {"endpoint": "x"}
        ev = {"transaction_id": self.tx("g"), "external_subscription_id": "sub_a", "code": code,
              "timestamp": at.strftime("%Y-%m-%dT%H:%M:%SZ"), "properties": props}
        ev.update(over)
        return ev, Row(ev["transaction_id"], "good", at)


# ---------------------------------------------------------------- JSONL


def _jline(ev: dict) -> bytes:
    return json.dumps(ev, ensure_ascii=False).encode()


def _raw_event(tx: str, properties: str, timestamp: str = "2026-10-07T00:00:00Z") -> str:
    """An event line with `properties` as raw text (JSON or not)."""
    return ('{"transaction_id": "' + tx + '", "external_subscription_id": "sub_a", "code": "tokens", '
            '"timestamp": "' + timestamp + '", "properties": ' + properties + "}")


def jsonl_cases(g: Gen) -> list[tuple[str, list[tuple[bytes, Row | None]], dict]]:
    """(what, [(line bytes, expected row or None for a line that is no row)], file options)."""
    def good():
        ev, row = g.good_event()
        return _jline(ev), row

    def with_(what, lines, **opts):
        return (what, lines, opts)

    cases = []
    tx = g.tx("u")
    cases.append(with_("invalid utf-8 in a value", [
        good(), (b'{"transaction_id": "' + tx.encode() + b'\xff\xfe", "external_subscription_id": "sub_a", '
                 b'"code": "tokens", "timestamp": "2026-10-05T10:00:00Z", "properties": {}}',
                 Row(None, "bad", reasons=("malformed_json",))), good()]))
    cases.append(with_("invalid utf-8 line", [good(), (b"\xc3\x28\xa0\xa1 garbage \x80",
                                                       Row(None, "bad", reasons=("malformed_json",))), good()]))
    cases.append(with_("overlong utf-8 + lone surrogate", [good(), (b'{"transaction_id": "\xc0\xaf\xed\xa0\x80"}',
                                                             Row(None, "bad", reasons=("malformed_json",))), good()]))
    first, row = good()
    cases.append(with_("bom", [(b"\xef\xbb\xbf" + first, row), good()]))
    cases.append(with_("crlf", [good(), good(), good()], newline=b"\r\n"))
    cases.append(with_("empty file", []))
    cases.append(with_("only blank lines", [(b"", None), (b"   ", None), (b"\t", None)]))
    ev, row = g.good_event()
    whole = _jline(ev)
    cut = g.rnd.randrange(1, len(whole) - 1)
    cases.append(with_("truncated last line", [good(), (whole[:cut], Row(None, "bad", reasons=("malformed_json",
                                                                                             "missing_field")))],
                       final_newline=False))
    cases.append(with_("no final newline", [good(), good()], final_newline=False))
    ev, row = g.good_event()
    ev["properties"]["blob"] = "z" * (1 << 20)
    cases.append(with_("1 MB line", [good(), (_jline(ev), row), good()]))
    cases.append(with_("1 MB garbage line", [good(), (b"{" + b"x" * (1 << 20), Row(None, "bad",
                                                                                    reasons=("malformed_json",)))]))
    ev, row = g.good_event(code="tokens")
    depth = g.rnd.choice([100, 1000, 5000])
    ev["properties"] = {"tokens": 3, "model": "small", "deep": 0}
    deep = _jline(ev).replace(b'"deep": 0', b'"deep": ' + b'{"n": ' * depth + b"1" + b"}" * depth)
    cases.append(with_("deeply nested properties", [good(), (deep, row), good()]))
    ev, row = g.good_event(code="tokens")
    ev["properties"] = {"tokens": 2, **{f"k{i}": i for i in range(g.rnd.choice([1000, 20000]))}}
    cases.append(with_("huge properties object", [good(), (_jline(ev), row)]))
    deep_line = b'{"transaction_id": "' + g.tx("d").encode() + b'", "properties": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    cases.append(with_("100k nesting, no fields", [good(), (deep_line, Row(None, "bad", reasons=("missing_field",
                                                                                                "malformed_json")))]))
    # numbers
    for text, what in [("1e400", "1e400"), ("-1e400", "-1e400"), ("NaN", "NaN"), ("Infinity", "Infinity"),
                       ("-0", "-0"), ("0.0000000000000000000001", "tiny"), ("1" + "0" * 40, "40 digits"),
                       ("123456789012345678901234567890.5", "30 digits"), ("9" * 12, "12 digits"), ("9" * 15, "15 digits"), ("9" * 18, "18 digits"), ("9" * 28, "28 digits"),
                       ("-" + "9" * 28 + ".9999999999", "-28 digits"), ('"٣"', "arabic digit text"),
                       ('"1e3"', "exponent text"), ('"-0"', "-0 text"), ('" 12 "', "spaced text"),
                       ('"12.5"', "numeric text"), ("true", "bool"), ("null", "null"), ('{"v": 1}', "object"),
                       ("[1, 2]", "array")]:
        t = g.tx("num")
        line = _raw_event(t, '{"tokens": ' + text + ', "model": "small"}')
        cases.append(with_(f"tokens = {what}", [good(), (line.encode(), Row(t, "any")), good()]))
    for text, what in [("9" * 15, "15 digits"), ("-" + "9" * 15, "-15 digits"), ("9" * 12 + ".5", "12 digits"),
                       ("9" * 8 + ".5", "8 digits")]:
        t = g.tx("num")  # a weighted sum multiplies a value by seconds
        line = _raw_event(t, '{"gpus": ' + text + "}").replace('"code": "tokens"', '"code": "gpus"')
        cases.append(with_(f"gpus = {what}", [good(), (line.encode(), Row(t, "any")), good()]))
    t = g.tx("num")
    cases.append(with_("tokens = bare ٣ (not JSON)", [good(), (
        _raw_event(t, '{"tokens": ٣}').encode(),
        Row(None, "bad", reasons=("malformed_json",)))]))
    # timestamps, several per file
    forms = timestamp_forms(g.instant())
    g.rnd.shuffle(forms)
    for i in range(0, len(forms), 7):
        lines = [good()]
        for value, at, what in forms[i:i + 7]:
            ev, _ = g.good_event(timestamp=value)
            lines.append((_jline(ev), Row(ev["transaction_id"], "good", at) if at else
                          Row(ev["transaction_id"], "bad", reasons=("bad_timestamp",))))
        cases.append(with_("timestamps " + ", ".join(w for _, _, w in forms[i:i + 7]), lines))
    for value, reasons in [(None, ("missing_field",)), ("", ("missing_field",)), ("  ", ("missing_field",)),
                           (True, ("bad_timestamp",)), ({"at": 1}, ("bad_timestamp",)), ([1], ("bad_timestamp",))]:
        ev, _ = g.good_event(timestamp=value)
        cases.append(with_(f"timestamp = {value!r}", [good(), (_jline(ev), Row(ev["transaction_id"], "bad",
                                                                              reasons=reasons))]))
    # ids
    ids = list(NASTY_IDS)
    g.rnd.shuffle(ids)
    for i in range(0, len(ids), 6):
        lines = [good()]
        for nasty in ids[i:i + 6]:
            ev, row = g.good_event()
            ev["transaction_id"] = row.tx = f"{g.tx('id')}{nasty}"
            lines.append((_jline(ev), row))
        cases.append(with_("nasty ids", lines))
    ev, row = g.good_event()
    ev["external_subscription_id"] = "../sub_a'; --<i>"
    cases.append(with_("nasty subscription", [good(), (_jline(ev), Row(ev["transaction_id"], "any"))]))
    ev, row = g.good_event(transaction_id=12345)
    cases.append(with_("numeric transaction_id", [good(), (_jline(ev), Row("12345", "any"))]))
    # shapes
    ev, row = g.good_event()
    ev.update({"extra": {"a": [1, 2]}, "another": None})
    cases.append(with_("extra fields", [good(), (_jline(ev), row)]))
    for missing in ["transaction_id", "code", "timestamp", "external_subscription_id"]:
        ev, _ = g.good_event()
        t = ev["transaction_id"]
        del ev[missing]
        cases.append(with_(f"missing {missing}", [good(), (_jline(ev), Row(None if missing == "transaction_id" else t,
                                                                          "bad", reasons=("missing_field",)))]))
    for props, what in [('"not json"', "text"), ('"{\\"tokens\\": -\\"many\\"}"', "invalid JSON text"),
                        ("[1, 2]", "array"), ("42", "number")]:
        t = g.tx("p")
        line = _raw_event(t, props)
        cases.append(with_(f"properties {what}", [good(), (line.encode(), Row(t, "bad", reasons=("malformed_json",)))]))
    for other, what in [(b"[1, 2]", "array line"), (b'"text"', "string line"), (b"null", "null line"),
                        (b"42", "number line"), (b"{\x00}", "NUL byte"), (b"{'single': 'quotes'}", "single quotes"),
(b"<html><body>hi</body></html>", "html line"),
                        (b"select * from raw.events; --", "sql line")]:
        cases.append(with_(what, [good(), (other, Row(None, "bad", reasons=("malformed_json",))), good()]))
    ev, row = g.good_event()
    cases.append(with_("trailing comma (DuckDB's reader accepts it)", [good(), (_jline(ev)[:-1] + b",}", Row(row.tx, "any")),
                                                                        (b'{"a": 1,}', Row(None, "bad", reasons=(
                                                                            "missing_field",)))]))
    # duplicates whose properties repeat a key: compared, never a crash
    ev, row = g.good_event(code="tokens")
    dup = _jline(ev)[:-1] + b', "zz": 0}'
    first = _raw_event(ev["transaction_id"], '{"tokens": 1, "tokens": 2}', ev["timestamp"]).encode()
    cases.append(with_("duplicate keys, sent twice", [(first, Row(ev["transaction_id"], "good", row.at)),
                                                      (first, Row(ev["transaction_id"], "any")),
                                                      (dup, Row(ev["transaction_id"], "any")),
                                                      good()]))
    return cases


def build_jsonl(g: Gen, what: str, lines: list[tuple[bytes, Row | None]], newline: bytes = b"\n",
                final_newline: bool = True) -> tuple[bytes, list[Row]]:
    data = newline.join(line for line, _ in lines) + (newline if final_newline and lines else b"")
    return data, [r for _, r in lines if r is not None]


# ---------------------------------------------------------------- CSV

CSV_HEADER = ["transaction_id", "external_customer_id", "external_subscription_id", "code", "timestamp", "properties"]


def _csv(rows: list[list[str]], newline: str = "\n") -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator=newline)
    w.writerows(rows)
    return buf.getvalue().encode()


def _csv_row(ev: dict, header=CSV_HEADER) -> list[str]:
    out = []
    for c in header:
        v = ev.get(c, "")
        out.append(json.dumps(v) if isinstance(v, (dict, list)) else ("" if v is None else str(v)))
    return out


def csv_cases(g: Gen) -> list[tuple[str, bytes, list[Row], bool]]:
    """(what, bytes, rows, exact[, unreadable])."""
    def good():
        ev, row = g.good_event()
        return _csv_row(ev), row

    cases = []
    r1, g1 = good()
    r2, g2 = good()
    cases.append(("plain", _csv([CSV_HEADER, r1, r2]), [g1, g2], True))
    r1, g1 = good()
    cases.append(("bom", b"\xef\xbb\xbf" + _csv([CSV_HEADER, r1]), [g1], True))
    r1, g1 = good()
    r2, g2 = good()
    cases.append(("crlf", _csv([CSV_HEADER, r1, r2], "\r\n"), [g1, g2], True))
    cases.append(("empty file", b"", [], True))
    cases.append(("header only", _csv([CSV_HEADER]), [], True))
    cases.append(("header only, no newline", ",".join(CSV_HEADER).encode(), [], True))
    r1, g1 = good()
    r2, _ = good()
    body = _csv([CSV_HEADER, r1, r2])
    cut = len(_csv([CSV_HEADER, r1])) + g.rnd.randrange(3, 20)
    cases.append(("truncated", body[:cut], [g1, Row(None, "bad", reasons=("missing_field", "malformed_row",
                                                                           "malformed_json", "bad_timestamp"))], True))
    r1, g1 = good()
    r3, g3 = good()
    bad_line = b"x\xff\xfe,,sub_a,tokens,2026-10-05T10:00:00Z,{}\n"
    cases.append(("invalid utf-8 row", _csv([CSV_HEADER, r1]) + bad_line + _csv([r3]),
                  [g1, Row(None, "bad", reasons=("malformed_row",)), g3], True))
    r1, g1 = good()
    r3, g3 = good()
    cases.append(("ragged rows", _csv([CSV_HEADER, r1]) + b"short,row\n" + b"a,b,c,d,e,f,g,h\n" + _csv([r3]),
                  [g1, Row(None, "bad", reasons=("malformed_row",)), Row(None, "bad", reasons=("malformed_row",)), g3],
                  True))
    r1, g1 = good()
    r3, _ = good()
    cases.append(("unterminated quote swallows the rest", _csv([CSV_HEADER, r1]) + b'q1,,"sub_a,tokens,2026\n'
                  + _csv([r3]), [g1, Row(None, "bad", reasons=("malformed_row",))], True))
    ev, row = g.good_event()
    ev["properties"]["blob"] = "y" * (1 << 20)
    r1, g1 = good()
    cases.append(("1 MB field", _csv([CSV_HEADER, r1, _csv_row(ev)]), [g1, row], True))
    lines, rows = [CSV_HEADER], []
    for nasty in g.rnd.sample([i for i in NASTY_IDS if "\r" not in i], 8):  # csv quotes \n, not a bare \r
        ev, row = g.good_event()
        ev["transaction_id"] = row.tx = f"{g.tx('id')}{nasty}"
        lines.append(_csv_row(ev))
        rows.append(row)
    cases.append(("nasty ids (quoted newlines, quotes, commas)", _csv(lines), rows, True))
    lines, rows = [CSV_HEADER], []
    for value, at, what in g.rnd.sample(timestamp_forms(g.instant()), 10):
        ev, _ = g.good_event(timestamp=value)
        lines.append(_csv_row(ev))
        rows.append(Row(ev["transaction_id"], "good", at) if at else
                    Row(ev["transaction_id"], "bad", reasons=("bad_timestamp",)))
    cases.append(("timestamps", _csv(lines), rows, True))
    extra = CSV_HEADER + ["note", "src", "payload_row"]
    ev, row = g.good_event()
    r1 = _csv_row({**ev, "note": "n", "src": "s", "payload_row": "p"}, extra)
    ev2, _ = g.good_event(timestamp="never")
    r2 = _csv_row({**ev2, "note": "n", "src": "s", "payload_row": "p"}, extra)
    cases.append(("extra columns (src, payload_row)", _csv([extra, r1, r2]),
                  [row, Row(ev2["transaction_id"], "bad", reasons=("bad_timestamp",))], True))
    shuffled = list(CSV_HEADER)
    g.rnd.shuffle(shuffled)
    ev, row = g.good_event()
    cases.append(("columns reordered", _csv([shuffled, _csv_row(ev, shuffled)]), [row], True))
    for missing in ["timestamp", "code", "transaction_id"]:
        header = [c for c in CSV_HEADER if c != missing]
        ev, _ = g.good_event()
        cases.append((f"missing column {missing}", _csv([header, _csv_row(ev, header)]),
                      [Row(None, "bad", reasons=("missing_field",))], True))
    ev, row = g.good_event()
    cases.append(("semicolons and pipes in values", _csv([CSV_HEADER, _csv_row({**ev, "properties": {
        **ev["properties"], "note": "a;b;c|d|e;f"}})]), [row], True))
    r1, g1 = good()
    # RFC 4180 wants a CR inside a field quoted; DuckDB's strict reader raises (not a rejected row)
    # and its lenient one would split the row and accept its tail as an event: the file is
    # quarantined whole
    cases.append(("bare CR in an unquoted field", _csv([CSV_HEADER, r1]) + b"cr\rid,,sub_a,tokens,2026-10-05T10:00:00Z,{}\n",
                  [], True, True))
    r1, g1 = good()
    cases.append(("blank lines", _csv([CSV_HEADER]) + b"\n\n" + _csv([r1]) + b"\n", [g1], False))
    t = g.tx("p")
    cases.append(("properties not JSON", _csv([CSV_HEADER, [t, "", "sub_a", "tokens", "2026-10-05T10:00:00Z",
                                                            '{"tokens": -"many"}']]),
                  [Row(t, "bad", reasons=("malformed_json",))], True))
    r1, g1 = good()
    cases.append(("NUL byte", _csv([CSV_HEADER, r1]) + b"nul\x00id,,sub_a,tokens,2026-10-05T10:00:00Z,{}\n",
                  [g1, Row(None, "any")], True))
    ev, row = g.good_event(code="tokens")
    props = json.dumps(ev["properties"])[:-1] + ', "tokens": 7}'
    r = _csv_row(ev)
    r[-1] = props
    cases.append(("duplicate key, sent twice", _csv([CSV_HEADER, r, r]), [Row(ev["transaction_id"], "good", row.at),
                                                                        Row(ev["transaction_id"], "any")], True))
    return cases


# ---------------------------------------------------------------- Parquet


def _parquet(select: str) -> bytes:
    import os
    import tempfile
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "f.parquet")
        with duckdb.connect() as con:
            con.execute("set TimeZone = 'UTC'")
            con.execute(f"copy ({select}) to '{path}' (format parquet)")
        with open(path, "rb") as fh:
            return fh.read()


def _sql(v: str) -> str:
    return "'" + v.replace("'", "''") + "'"


def parquet_cases(g: Gen) -> list[tuple[str, bytes, list[Row], bool, bool]]:
    """(what, bytes, rows, exact, unreadable)."""
    cases = []

    def goods(n: int, ts_type: str = "timestamp") -> tuple[list[str], list[Row]]:
        selects, rows = [], []
        for _ in range(n):
            at = g.instant()
            t = g.tx("g")
            ts = {"timestamp": f"timestamp '{at:%Y-%m-%d %H:%M:%S}'",
                  "timestamptz": f"timestamptz '{at:%Y-%m-%d %H:%M:%S}+00'",
                  "text": _sql(at.strftime("%Y-%m-%dT%H:%M:%SZ")),
                  "bigint": str(int(at.timestamp())),
                  "double": f"{at.timestamp()}::double"}[ts_type]
            selects.append(f"select {_sql(t)} as transaction_id, null::varchar as external_customer_id, "
                           f"'sub_a' as external_subscription_id, 'tokens' as code, {ts} as timestamp, "
                           f"'{{\"tokens\": 3, \"model\": \"small\"}}' as properties")
            rows.append(Row(t, "good", at))
        return selects, rows

    for ts_type in ["timestamp", "timestamptz", "text", "bigint", "double"]:
        s, rows = goods(3, ts_type)
        cases.append((f"timestamp as {ts_type}", _parquet(" union all ".join(s)), rows, True, False))
    s, rows = goods(4)
    data = _parquet(" union all ".join(s))
    cases.append(("truncated", data[: g.rnd.randrange(8, len(data) - 8)], [], True, True))
    cases.append(("empty file", b"", [], True, True))
    cases.append(("magic bytes, garbage", b"PAR1" + bytes(g.rnd.randrange(256) for _ in range(200)) + b"PAR1",
                  [], True, True))
    cases.append(("a JSONL line named .parquet", b'{"transaction_id": "x"}\n', [], True, True))
    cases.append(("zero rows", _parquet("select 'x' as transaction_id, 'sub_a' as external_subscription_id, "
                                        "'tokens' as code, now() as timestamp, '{}' as properties limit 0"),
                  [], True, False))
    at = g.instant()
    t1, t2, t3 = g.tx("g"), g.tx("b"), g.tx("b")
    cases.append(("schema drift: struct properties, int id column elsewhere, epoch ms, extra columns", _parquet(
        f"select * from (values ({_sql(t1)}, 'sub_a', 'tokens', {int(at.timestamp())}, {{'tokens': 5, 'model': 'small'}}, 1, [1,2]),"
        f" ({_sql(t2)}, 'sub_a', 'tokens', {int(at.timestamp()) * 1000}, {{'tokens': 5, 'model': 'small'}}, 2, [3]),"
        f" ({_sql(t3)}, null, 'tokens', {int(at.timestamp())}, {{'tokens': 5, 'model': 'small'}}, 3, []))"
        " t(transaction_id, external_subscription_id, code, timestamp, properties, extra_int, extra_list)"),
        [Row(t1, "good", at), Row(t2, "bad", reasons=("bad_timestamp",)), Row(t3, "bad", reasons=("missing_field",))],
        True, False))
    at = g.instant()
    cases.append(("schema drift: numeric transaction_id, map properties", _parquet(
        f"select 424242 as transaction_id, 'sub_a' as external_subscription_id, 'tokens' as code, "
        f"timestamp '{at:%Y-%m-%d %H:%M:%S}' as timestamp, map {{'tokens': 4}} as properties"),
        [Row("424242", "any")], True, False))
    at = g.instant()
    t1 = g.tx("g")
    cases.append(("columns named like the reader's own (file_row_number, src, __tally_row)", _parquet(
        f"select {_sql(t1)} as transaction_id, 'sub_a' as external_subscription_id, 'api_calls' as code, "
        f"timestamp '{at:%Y-%m-%d %H:%M:%S}' as timestamp, '{{}}' as properties, 9 as file_row_number, "
        "'s' as src, 1 as payload_row"), [Row(t1, "good", at)], True, False))
    t1 = g.tx("b")
    cases.append(("schema drift: properties as a list and as an integer", _parquet(
        f"select {_sql(t1)} as transaction_id, 'sub_a' as external_subscription_id, 'tokens' as code, "
        "timestamp '2026-10-09 00:00:00' as timestamp, [1, 2, 3] as properties"),
        [Row(t1, "bad", reasons=("malformed_json",))], True, False))
    s, rows = goods(1)
    t1 = g.tx("b")
    cases.append(("missing timestamp column", _parquet(
        f"select {_sql(t1)} as transaction_id, 'sub_a' as external_subscription_id, 'tokens' as code, "
        "'{}' as properties"), [Row(t1, "bad", reasons=("missing_field",))], True, False))
    t1, t2 = g.tx("b"), g.tx("b")
    cases.append(("double timestamps: NaN and infinity", _parquet(
        f"select * from (values ({_sql(t1)}, 'nan'::double), ({_sql(t2)}, 'inf'::double)) "
        "t(transaction_id, timestamp)"), [Row(t1, "bad", reasons=("missing_field",)),
                                          Row(t2, "bad", reasons=("missing_field",))], True, False))
    t1, t2 = g.tx("b"), g.tx("g")
    at = g.instant()
    cases.append(("double timestamps with subscription: NaN and good", _parquet(
        f"select * from (values ({_sql(t1)}, 'nan'::double), ({_sql(t2)}, {at.timestamp()}::double)) "
        "t(transaction_id, timestamp), (select 'sub_a' as external_subscription_id, 'api_calls' as code)"),
        [Row(t1, "bad", reasons=("bad_timestamp",)), Row(t2, "good", at)], True, False))
    t1, t2 = g.tx("b"), g.tx("g")
    at = g.instant()
    cases.append(("blob columns with invalid utf-8", _parquet(
        f"select * from (values ('\\xFF\\xFE'::blob, 'sub_a', 'tokens', timestamp '{at:%Y-%m-%d %H:%M:%S}', "
        f"'\\xC3\\x28'::blob), ({_sql(t2)}::blob, 'sub_a', 'api_calls', timestamp '{at:%Y-%m-%d %H:%M:%S}', "
        "'{}'::blob)) t(transaction_id, external_subscription_id, code, timestamp, properties)"),
        [Row(None, "any"), Row(t2, "any")], True, False))
    ev_rows, selects = [], []
    for nasty in g.rnd.sample(NASTY_IDS, 6):
        at = g.instant()
        t = f"{g.tx('id')}{nasty}"
        selects.append(f"select {_sql(t)} as transaction_id, 'sub_a' as external_subscription_id, "
                       f"'api_calls' as code, timestamp '{at:%Y-%m-%d %H:%M:%S}' as timestamp, "
                       "{'endpoint': 'x'} as properties")
        ev_rows.append(Row(t, "good", at))
    cases.append(("nasty ids", _parquet(" union all ".join(selects)), ev_rows, True, False))
    t1 = g.tx("g")
    at = g.instant()
    cases.append(("1 MB property", _parquet(
        f"select {_sql(t1)} as transaction_id, 'sub_a' as external_subscription_id, 'tokens' as code, "
        f"timestamp '{at:%Y-%m-%d %H:%M:%S}' as timestamp, "
        "{'tokens': 1, 'model': 'small', 'blob': repeat('x', 1048576)} as properties"), [Row(t1, "good", at)],
        True, False))
    t1, t2 = g.tx("g"), g.tx("b")
    at = g.instant()
    cases.append(("huge decimals and extreme timestamps", _parquet(
        f"select * from (values ({_sql(t1)}, timestamp '{at:%Y-%m-%d %H:%M:%S}', 99999999999999999999999999999999999999::decimal(38,0)),"
        f" ({_sql(t2)}, null, 0::decimal(38,0))) t(transaction_id, timestamp, tokens), "
        "(select 'sub_a' as external_subscription_id, 'api_calls' as code, '{}' as properties)"),
        [Row(t1, "good", at), Row(t2, "bad", reasons=("missing_field",))], True, False))
    return cases


# ---------------------------------------------------------------- all


def generate(seed: int, count: int = 200) -> list[FuzzFile]:
    """At least `count` files; the same seed gives the same bytes."""
    files: list[FuzzFile] = []
    index = 0
    while len(files) < count:
        g = Gen(seed, index)
        for what, lines, opts in jsonl_cases(g):
            data, rows = build_jsonl(g, what, lines, **opts)
            files.append(FuzzFile(f"{g.prefix}_{len(files):04d}.jsonl", data, rows, what="jsonl: " + what))
        for what, data, rows, exact, *unreadable in csv_cases(g):
            files.append(FuzzFile(f"{g.prefix}_{len(files):04d}.csv", data, rows, unreadable=bool(unreadable),
                                  exact=exact, what="csv: " + what))
        for what, data, rows, exact, unreadable in parquet_cases(g):
            files.append(FuzzFile(f"{g.prefix}_{len(files):04d}.parquet", data, rows, unreadable=unreadable,
                                  exact=exact, what="parquet: " + what))
        index += 1
    return files
