"""The candidate catalog: a full catalog (it holds every required file) used as it is, or an
overlay holding only the files it changes, laid over the current catalog row by row.

An overlay row replaces the current row with the same key (KEYS) or is added; a row with the
extra column `_remove` set to true removes the current row with its key instead. Rows sharing a
key (the segments of a plan change in subscriptions.csv) go together: the overlay's rows of a
key replace every current row of it. Files the
overlay does not hold are the current ones. The merged folder is then validated like any
catalog, so a broken candidate is refused with its file, row and rule."""
from __future__ import annotations

import csv
import io
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from orchestration.catalog_kit.files import FILES, OPTIONAL_FILES

# the columns that name a row of each file; a file without an id is keyed by all its columns
# (an overlay row can then only add such a row, or remove an identical one)
KEYS: dict[str, tuple[str, ...]] = {
    "customers.csv": ("external_id",),
    "billable_metrics.csv": ("code",),
    "plans.csv": ("code",),
    "charges.csv": ("id",),
    "subscriptions.csv": ("external_id",),
    "taxes.csv": ("code",),
    "wallets.csv": ("id",),
    "coupons.csv": ("code",),
    "applied_coupons.csv": ("coupon_code", "external_customer_id"),
    "fx_rates.csv": ("date", "currency"),
    "add_ons.csv": ("code",),
    "fixed_charges.csv": ("id",),
    "fixed_charge_units.csv": ("external_subscription_id", "fixed_charge_id", "effective_on"),
    "alerts.csv": ("code",),
}
REMOVE = "_remove"
TRUE = ("true", "t", "1", "yes", "y")


class CandidateError(Exception):
    """A candidate folder that cannot be read as a catalog or an overlay."""


@dataclass(frozen=True)
class Candidate:
    folder: Path      # the catalog to validate and rate: the candidate itself or the merged overlay
    overlay: bool
    changed: tuple[str, ...]   # the files the candidate holds
    # merged file -> its line -> where the row came from ("<overlay file> row N", "current <file> row M")
    origins: dict[str, dict[int, str]] = field(default_factory=dict)

    def locate(self, problem: str) -> str:
        """A problem found in the merged catalog, naming the row the user wrote instead."""
        def where(m: re.Match) -> str:
            return self.origins.get(m[1], {}).get(int(m[2]), m[0])
        return _ROW.sub(where, problem, count=1)


_ROW = re.compile(r"^([\w.-]+\.csv) row (\d+)")


def _read(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with path.open(newline="", encoding="utf-8-sig") as fh:
        reader = csv.DictReader(fh)
        return list(reader.fieldnames or []), [{k: (v or "") for k, v in r.items() if k} for r in reader]


def _key(name: str, header: list[str], row: dict[str, str]) -> tuple:
    cols = KEYS.get(name) or tuple(c for c in header if c != REMOVE)
    return tuple(row.get(c, "").strip() for c in cols)


def merge_file(name: str, current: Path | None, overlay: Path, out: Path) -> dict[int, str]:
    """current's rows with overlay's laid over them, in current's order, new rows last; returns
    where each row of the merged file (by the line it ends on) came from."""
    cur_header, cur_rows = _read(current) if current and current.exists() else ([], [])
    ov_header, ov_rows = _read(overlay)
    header = cur_header + [c for c in ov_header if c not in cur_header and c != REMOVE]
    key_header = [c for c in (cur_header or ov_header) if c != REMOVE]
    # key -> [(row, where it came from)]: several rows share a key in subscriptions.csv (the
    # segments of a plan change); an overlay's rows of a key replace all the current ones
    merged: dict[tuple, list[tuple[dict, str]]] = {}
    for line, row in enumerate(cur_rows, start=2):
        merged.setdefault(_key(name, key_header, row), []).append((row, f"current {name} row {line}"))
    laid: set[tuple] = set()
    for line, row in enumerate(ov_rows, start=2):
        key = _key(name, key_header, row)
        if row.get(REMOVE, "").strip().lower() in TRUE:
            if key not in merged:
                named = dict(zip(KEYS.get(name, key_header), key))
                raise CandidateError(f"{overlay} row {line}: {REMOVE} names {named}, which the current {name} "
                                     f"does not hold (rule: an overlay removes current rows only)")
            del merged[key]
            continue
        if key not in laid:
            merged[key] = []
            laid.add(key)
        merged[key].append(({c: v for c, v in row.items() if c != REMOVE}, f"{overlay} row {line}"))
    lines, line = {}, 1
    buffer = io.StringIO(newline="")
    writer = csv.DictWriter(buffer, fieldnames=header, extrasaction="raise", lineterminator="\n")
    writer.writeheader()
    for row, origin in (entry for entries in merged.values() for entry in entries):
        before = buffer.tell()
        writer.writerow({c: row.get(c, "") for c in header})
        # the catalog reader names a row by the line it ends on (a quoted cell may hold newlines)
        line += buffer.getvalue()[before:].count("\n")
        lines[line] = origin
    out.write_text(buffer.getvalue(), encoding="utf-8", newline="")
    return lines


def prepare(candidate: Path, current: Path, work: Path) -> Candidate:
    """The catalog folder to rate: `candidate` when it is a full catalog, else `work` holding the
    current catalog with the overlay laid over it."""
    candidate, current = Path(candidate), Path(current)
    if not candidate.is_dir():
        raise CandidateError(f"candidate folder {candidate} does not exist")
    known = {*FILES, *OPTIONAL_FILES}
    files = sorted(p.name for p in candidate.iterdir() if not p.name.startswith("."))
    unknown = [f for f in files if f not in known]
    if unknown:
        raise CandidateError(f"{candidate}: {', '.join(unknown)} {'is' if len(unknown) == 1 else 'are'} no catalog "
                             f"file (rule: a candidate holds only {', '.join(sorted(known))})")
    if not files:
        raise CandidateError(f"candidate folder {candidate} holds no catalog file")
    if all(f in files for f in FILES):
        return Candidate(candidate, overlay=False, changed=tuple(files))
    if not current.is_dir():
        raise CandidateError(f"{candidate} is an overlay (it lacks {', '.join(f for f in FILES if f not in files)}) "
                             f"and the current catalog {current} does not exist (rule: an overlay needs --catalog)")
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    for path in sorted(current.iterdir()):
        if path.name in known and path.name not in files:
            shutil.copyfile(path, work / path.name)
    origins = {name: merge_file(name, current / name, candidate / name, work / name) for name in files}
    return Candidate(work, overlay=True, changed=tuple(files), origins=origins)
