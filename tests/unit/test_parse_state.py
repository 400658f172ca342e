"""tally-dbt's shared dbt parse state (orchestration/lib/parse_state.py): which warehouses may
share one, and which state a new target folder starts from."""
from __future__ import annotations

from pathlib import Path

from orchestration.lib import parse_state


def credentials(path: str):
    from dbt.adapters.duckdb.credentials import DuckDBCredentials

    return DuckDBCredentials.from_dict(DuckDBCredentials.__pre_deserialize__({"path": path, "schema": "main"}))


def test_the_profile_hash_keeps_the_database_name_and_leaves_the_folder_out():
    parse_state.leave_path_out_of_the_profile_hash()
    parse_state.leave_path_out_of_the_profile_hash()  # twice is once
    a, b, c = credentials("/tmp/a/w.duckdb"), credentials("/tmp/b/w.duckdb"), credentials("/tmp/a/tally.duckdb")
    assert dict(a.connection_info())["database"] == "w"
    assert "path" not in dict(a.connection_info())
    assert list(a.connection_info()) == list(b.connection_info())
    assert list(a.connection_info()) != list(c.connection_info())
    assert parse_state.database_name("/tmp/a/w.duckdb") == "w"


def project(tmp_path: Path) -> Path:
    (tmp_path / "project" / "target").mkdir(parents=True)
    (tmp_path / "project" / "target" / parse_state.STATE_FILE).write_bytes(b"project state")
    return tmp_path / "project"


def test_a_fresh_copy_of_the_project_state_is_replaced_by_the_one_saved_for_the_name(tmp_path):
    proj = project(tmp_path)
    target = tmp_path / "t1"
    target.mkdir()
    (target / parse_state.STATE_FILE).write_bytes(b"project state")  # what dagster-dbt copies in
    parse_state.seed(target, proj, "w")  # nothing saved for w yet: the copy stays
    assert (target / parse_state.STATE_FILE).read_bytes() == b"project state"
    (target / parse_state.STATE_FILE).write_bytes(b"parsed for w")  # dbt parsed the project for w
    parse_state.keep(target, proj, "w")
    assert parse_state.cached(proj, "w").read_bytes() == b"parsed for w"
    fresh = tmp_path / "t2"
    fresh.mkdir()
    (fresh / parse_state.STATE_FILE).write_bytes(b"project state")
    parse_state.seed(fresh, proj, "w")
    assert (fresh / parse_state.STATE_FILE).read_bytes() == b"parsed for w"
    empty = tmp_path / "t3"
    parse_state.seed(empty, proj, "w")
    assert (empty / parse_state.STATE_FILE).read_bytes() == b"parsed for w"
    # a target's own state (a warehouse billed before) is left alone, and other names get nothing
    (target / parse_state.STATE_FILE).write_bytes(b"w, one model changed since")
    parse_state.seed(target, proj, "w")
    assert (target / parse_state.STATE_FILE).read_bytes() == b"w, one model changed since"
    other = tmp_path / "t4"
    other.mkdir()
    (other / parse_state.STATE_FILE).write_bytes(b"project state")
    parse_state.seed(other, proj, "warehouse")
    assert (other / parse_state.STATE_FILE).read_bytes() == b"project state"
    assert not list(parse_state.cached(proj, "w").parent.glob("*.tmp"))
