"""Fuzzed landing (issue 11, item 3): ≥ 200 broken JSONL, CSV and Parquet files from a seed.

The bulk is landed with orchestration.landing.load on an in-memory DuckDB: landing never raises,
every row is in raw.events (or the file is quarantined as a file, with its reason), every
rejected row has a reason, the good rows of each file are accepted at the right instant. One
`tally run` bills a subset end to end: exit 0 and events sent = billed + quarantined + duplicates.

The seed is TALLY_FUZZ_SEED when set, else a new one per run, printed in every failure message
(replay: TALLY_FUZZ_SEED=<seed> pytest tests/test_fuzz_landing.py). Every seed builds every kind of
broken file (the seed varies ids, values, instants and cuts); each bug found has its own
regression test in tests/test_landing.py.
"""
from __future__ import annotations

import os
import random
import re
import shutil
from collections import defaultdict
from pathlib import Path

import duckdb
import pytest

from orchestration import landing
from tests.fuzz_files import FuzzFile, generate
from tests.helpers import rows, tally

SEED = int(os.environ.get("TALLY_FUZZ_SEED") or random.SystemRandom().randrange(1, 10**9))
MIN_FILES = 200


def write(files: list[FuzzFile], folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for f in files:
        (folder / f.name).write_bytes(f.data)
    return folder


def land(folder: Path, files: list[FuzzFile]) -> tuple[duckdb.DuckDBPyConnection, landing.LandingResult]:
    """Land the folder; when the whole batch raises, find the files that do (a clearer failure)."""
    con = duckdb.connect()
    con.execute("set TimeZone = 'America/New_York'")  # no timestamp may depend on the session's zone
    try:
        result = landing.load(con, folder)
    except Exception as exc:
        raised = []
        for f in files:
            single = folder.parent / ("single_" + f.name)
            write([f], single)
            try:
                landing.load(duckdb.connect(), single)
            except Exception as inner:  # noqa: BLE001 - every file that raises, whatever it raises
                raised.append(f"{f.name} ({f.what}): {str(inner)[:300]}")
        raise AssertionError(f"seed {SEED}: landing raised: {exc}\n" + "\n".join(raised)) from exc
    return con, result


def check_file(f: FuzzFile, landed: list[tuple], file_row: tuple | None) -> list[str]:
    """What is wrong with one file's rows in raw.events (empty: nothing)."""
    problems = []
    where = f"{f.name} ({f.what})"
    if file_row is None:
        return [f"{where}: not in raw.landing_files"]
    if f.unreadable:
        if [(r[0], r[2]) for r in landed] != [(None, "unreadable_file")] or not landed[0][3]:
            problems.append(f"{where}: expected one unreadable_file row, got {landed}")
        if file_row[1] != "unreadable_file":
            problems.append(f"{where}: raw.landing_files does not record it as quarantined: {file_row}")
        return problems
    if file_row[1] is not None:
        problems.append(f"{where}: quarantined as a file ({file_row}) though readable")
    lines = [r[0] for r in landed]
    if any(n is None or n < 1 for n in lines) or len(set(lines)) != len(lines):
        problems.append(f"{where}: line numbers not unique and positive: {lines}")
    if lines != sorted(lines):
        problems.append(f"{where}: rows not in line order: {lines}")
    for line, tx, reason, detail, status, at, payload in landed:
        if reason is None and status is None:
            problems.append(f"{where} line {line}: neither accepted nor rejected")
        if reason is not None and (not detail or payload is None):
            problems.append(f"{where} line {line}: rejected ({reason}) without a detail or payload")
    if f.exact and len(landed) != len(f.rows):
        problems.append(f"{where}: {len(f.rows)} rows expected, {len(landed)} landed: "
                        f"{[(r[0], r[1] and r[1][:40], r[2]) for r in landed]}")
    if not f.exact and len(landed) < sum(r.kind != "any" for r in f.rows):
        problems.append(f"{where}: fewer rows landed ({len(landed)}) than expected")
    by_tx = defaultdict(list)
    for r in landed:
        by_tx[r[1]].append(r)
    for i, exp in enumerate(f.rows):
        got = landed[i] if f.exact and i < len(landed) else None
        if exp.kind == "good":  # ids are trimmed at landing
            accepted = [r for r in by_tx.get(exp.tx.strip(), []) if r[4] == "accepted"]
            if len(accepted) != 1:
                problems.append(f"{where}: good row {exp.tx!r:.60} not accepted once: {by_tx.get(exp.tx)}")
            elif exp.at is not None and accepted[0][5] != exp.at.replace(tzinfo=None):
                problems.append(f"{where}: good row {exp.tx!r:.60} at {accepted[0][5]}, expected {exp.at}")
        elif exp.kind == "bad":
            cand = [got] if got is not None else by_tx.get(exp.tx, []) if exp.tx else []
            if exp.tx is not None and got is not None and got[1] != exp.tx:
                problems.append(f"{where} row {i}: expected {exp.tx!r:.60}, got {got[1]!r:.60}")
            if not cand or any(c[2] not in exp.reasons for c in cand):
                problems.append(f"{where} row {i}: expected a rejection in {exp.reasons}, got "
                                f"{[(c[0], c[2], c[3]) for c in cand]}")
    return problems


@pytest.fixture(scope="module")
def fuzzed(tmp_path_factory):
    files = generate(SEED, MIN_FILES)
    folder = write(files, tmp_path_factory.mktemp("fuzz") / "landing")
    return files, folder


def test_every_broken_file_lands_without_losing_a_row(fuzzed):
    files, folder = fuzzed
    assert len(files) >= MIN_FILES
    con, result = land(folder, files)
    # a file with the bytes of one landed before (empty files, a header alone) is skipped as that file
    first_of = {}
    for f in files:
        first_of.setdefault(f.data, f.name)
    assert sorted(result.skipped) == sorted((f.name, first_of[f.data]) for f in files if first_of[f.data] != f.name)
    per_file = defaultdict(list)
    for r in con.execute("""select source_file, line_number, transaction_id, rejection_reason, rejection_detail,
                                   dedup_status, event_at, coalesce(payload, '')
                            from raw.events order by load_sequence, line_number nulls first""").fetchall():
        per_file[r[0]].append(r[1:])
    manifest = {r[0]: r[1:] for r in con.execute(
        "select file_name, rows_loaded, rejection_reason, rejection_detail from raw.landing_files").fetchall()}
    problems = []
    for f in files:
        if first_of[f.data] != f.name:
            continue
        m = manifest.get(f.name)
        problems += check_file(f, per_file.get(f.name, []), None if m is None else (m[0], m[1], m[2]))
    assert not problems, f"seed {SEED}: {len(problems)} problems:\n" + "\n".join(p[:600] for p in problems[:40])
    # landing the same folder again changes nothing (checksums, unreadable files included)
    before = con.execute("select count(*) from raw.events").fetchone()[0]
    again = landing.load(con, folder)
    assert again.loaded == [] and con.execute("select count(*) from raw.events").fetchone()[0] == before


def test_the_generator_is_deterministic_per_seed():
    a, b = generate(7, MIN_FILES), generate(7, MIN_FILES)
    assert [(f.name, f.data) for f in a] == [(f.name, f.data) for f in b]
    assert {f.name.rsplit(".", 1)[1] for f in a} == {"jsonl", "csv", "parquet"}


# where a `tokens` value goes (None: billed). A JSON number's text is what DuckDB's parser writes
# back: 0.0000000000000000000001 reads as 1e-22, not Lago's -?digits[.digits]
NUMBER_OUTCOMES = {
    "-0": None, "tiny": "non_numeric_value", "12 digits": None, "15 digits": "non_numeric_value", "-0 text": None,
    "numeric text": None,
    "1e400": "non_numeric_value", "-1e400": "non_numeric_value", "NaN": "non_numeric_value",
    "Infinity": "non_numeric_value", "40 digits": "non_numeric_value", "30 digits": "non_numeric_value",
    "18 digits": "non_numeric_value", "28 digits": "non_numeric_value", "-28 digits": "non_numeric_value",
    "arabic digit text": "non_numeric_value", "exponent text": "non_numeric_value",
    "spaced text": "non_numeric_value", "bool": "non_numeric_value", "object": "non_numeric_value",
    "array": "non_numeric_value", "null": "missing_field",
    # gpus, a weighted sum (digits: 8): a level times seconds
    "gpus = 8 digits": None, "gpus = 12 digits": "non_numeric_value", "gpus = 15 digits": "non_numeric_value",
    "gpus = -15 digits": "non_numeric_value",
}
SUMMARY = re.compile(r"events sent: (\d+) = billed (\d+) \+ quarantined (\d+) \+ duplicates ignored (\d+)")


def test_one_run_end_to_end_keeps_the_identity(fuzzed, tmp_path, small_catalog):
    files, _ = fuzzed
    rnd = random.Random(SEED)
    small = [f for f in files if 0 < len(f.data) < 200_000 and [g.data for g in files].count(f.data) == 1]
    # every odd number (they reach the meters' decimal casts) and timestamp form, two unreadable files, others at random
    wanted = [f for f in small if f.what.startswith(("jsonl: tokens =", "jsonl: gpus =", "jsonl: timestamps"))]
    subset = wanted + rnd.sample([f for f in small if f.unreadable], 2) + rnd.sample(
        [f for f in small if not f.unreadable and f not in wanted], 20)
    landing_dir = write(subset, tmp_path / "landing")
    warehouse = tmp_path / "w.duckdb"
    proc = tally("run", "--catalog", str(small_catalog), "--landing", str(landing_dir), "--warehouse",
                 str(warehouse), "--period", "2026-10", "--publish", str(tmp_path / "published"), "--no-pages",
                 check=False)
    assert proc.returncode == 0, f"seed {SEED}: {[f.what for f in subset]}\n{proc.stdout}\n{proc.stderr}"
    m = SUMMARY.search(proc.stdout)
    assert m, proc.stdout
    sent, billed, quarantined, duplicates = map(int, m.groups())
    assert sent == billed + quarantined + duplicates, proc.stdout
    assert sent == rows(warehouse, "select count(*) from raw.events")[0][0]
    # the good rows of every file are billed: none of them is quarantined
    good = {(f.name, r.tx.strip()) for f in subset for r in f.rows if r.kind == "good" and r.at.year == 2026
            and all(o.kind == "good" for o in f.rows if o.tx == r.tx)}
    quarantined_rows = set(rows(warehouse, "select source_file, transaction_id from billing.quarantined_events"))
    assert not good & quarantined_rows, f"seed {SEED}: good rows quarantined: {sorted(good & quarantined_rows)[:5]}"
    # odd numbers: a value the meters cannot hold is quarantined (a 40-digit value failed the build)
    reasons = dict(rows(warehouse, "select source_file, reason from billing.quarantined_events "
                                   "where transaction_id like '%-num%'"))
    got = {f.what.removeprefix("jsonl: tokens = ").removeprefix("jsonl: "): reasons.get(f.name) for f in subset
           if f.what.startswith(("jsonl: tokens =", "jsonl: gpus =")) and "not JSON" not in f.what}
    assert got == NUMBER_OUTCOMES, f"seed {SEED}"
    unreadable = {f.name for f in subset if f.unreadable}
    assert set(rows(warehouse, "select source_file from billing.quarantined_events "
                               "where reason = 'unreadable_file'")) == {(n,) for n in unreadable}
    shutil.rmtree(landing_dir)
