"""dbt's partial-parse state shared by warehouses of one name, around each dbt build of a run.

dbt skips parsing the project again (~4 s) when its saved state (target/partial_parse.msgpack)
was made with the same project files, vars and profile. Its profile check hashes every connection
key, the warehouse file's full path among them, so each new warehouse (each test, each user's
copy) parsed the whole project once more, though the parse depends on the file only through the
database name dbt-duckdb derives from it (the file's stem), which stays in the hash.

Two things make a new warehouse start from a saved state:
- `path` leaves dbt-duckdb's connection keys (`connection_info`: the profile hash and the
  connection summary in dbt's debug log), `database` stays;
- every new target folder gets a copy of the project's state (dbt_project/target, from
  `orchestration.prepare`'s parse; TallyDbtResource.cli, as dagster-dbt does); when the
  warehouse's name is another one, the state last saved for that name
  (dbt_project/target/parse_state/<name>.msgpack) replaces the copy.
dbt still checks the state it is given and parses again what does not match, so a stale or
foreign state costs a parse, never a wrong manifest."""
from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

STATE_FILE = "partial_parse.msgpack"


def leave_path_out_of_the_profile_hash() -> None:
    from dbt.adapters.duckdb.credentials import DuckDBCredentials

    keys = DuckDBCredentials._connection_keys
    if getattr(keys, "tally_without_path", False):
        return

    def without_path(self) -> tuple[str, ...]:
        return tuple(key for key in keys(self) if key != "path")

    without_path.tally_without_path = True
    DuckDBCredentials._connection_keys = without_path


def database_name(warehouse: str) -> str:
    from dbt.adapters.duckdb.credentials import DuckDBCredentials

    return DuckDBCredentials.path_derived_database_name(warehouse)


def cached(project_dir: Path, database: str) -> Path:
    return project_dir / "target" / "parse_state" / f"{database}.msgpack"


def seed(target: Path, project_dir: Path, database: str) -> None:
    """Before dbt: a target holding the project's own state (a fresh copy) gets the state saved
    for `database` instead, when there is one."""
    state, default, saved = target / STATE_FILE, project_dir / "target" / STATE_FILE, cached(project_dir, database)
    if not saved.exists() or not default.exists():
        return
    if not state.exists() or (state.stat().st_size == default.stat().st_size
                              and state.read_bytes() == default.read_bytes()):
        _replace(saved.read_bytes(), state)


@contextmanager
def for_warehouse(target: Path, project_dir: Path, warehouse: str) -> Iterator[None]:
    """Around one dbt command on `warehouse` with its target folder `target`: the state saved for
    the warehouse's name goes in first; the state dbt leaves, when it parsed (part of) the project
    again, is saved for the name after."""
    leave_path_out_of_the_profile_hash()
    started, database = time.time(), database_name(warehouse)
    seed(target, project_dir, database)
    yield
    state = target / STATE_FILE
    if state.exists() and state.stat().st_mtime >= started:
        keep(target, project_dir, database)


def keep(target: Path, project_dir: Path, database: str) -> None:
    """After dbt: the target's state becomes the one saved for `database` (swapped in whole: two
    runs may save at once)."""
    state = target / STATE_FILE
    if state.exists():
        _replace(state.read_bytes(), cached(project_dir, database))


def _replace(data: bytes, dest: Path) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=dest.name, suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, dest)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
