"""dbt run inside the `tally` process (orchestration/lib/dbt_in_process.py), as dagster-dbt sees
it through TallyDbtResource.cli: on a project of its own (three models, one failing on demand),
the lines it streams, its return code, the error dagster-dbt raises, and the warehouse left free
for the next user with another configuration (the gate opens it read-only)."""
from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from dagster_dbt.errors import DagsterDbtCliRuntimeError

from orchestration.defs.resources import TallyDbtResource
from orchestration.prepare import dbt_executable

PROFILE = """tiny:
  target: dev
  outputs:
    dev:
      type: duckdb
      path: "{{ env_var('TALLY_WAREHOUSE') }}"
      threads: 2
"""


def project(base: Path, failing: bool = False) -> Path:
    (base / "models").mkdir(parents=True)
    (base / "dbt_project.yml").write_text("name: tiny\nversion: '1.0'\nprofile: tiny\nconfig-version: 2\n"
                                          "models:\n  tiny:\n    +materialized: table\n")
    (base / "profiles.yml").write_text(PROFILE)
    (base / "models" / "a.sql").write_text("select 1 as x")
    (base / "models" / "b.sql").write_text("select x + 1 as x from {{ ref('a') }}")
    (base / "models" / "c.sql").write_text(
        "select error('the price list is empty') as x" if failing else "select x * 10 as x from {{ ref('b') }}")
    return base


@pytest.fixture
def warehouse(tmp_path, monkeypatch) -> Path:
    path = tmp_path / "w.duckdb"
    monkeypatch.setenv("TALLY_WAREHOUSE", str(path))
    monkeypatch.setenv("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
    return path


def invoke(proj: Path, args: list[str]):
    dbt = TallyDbtResource(project_dir=str(proj), profiles_dir=str(proj), dbt_executable=dbt_executable())
    return dbt.cli(args, target_path=proj / "target" / "run")


def test_a_build_streams_each_node_and_leaves_the_warehouse_free(tmp_path, warehouse):
    proj = project(tmp_path / "ok")
    invocation = invoke(proj, ["build"])
    events = list(invocation.stream_raw_events())
    finished = sorted(e.raw_event["data"]["node_info"]["unique_id"] for e in events
                      if e.raw_event["info"]["name"] == "LogModelResult")
    assert finished == ["model.tiny.a", "model.tiny.b", "model.tiny.c"]
    # dbt's stdout level: no debug lines (each SQL statement) reach dagster-dbt
    assert {e.raw_event["info"]["level"] for e in events} <= {"info", "warn", "error"}
    assert invocation.process.returncode == 0 and invocation.is_successful()
    assert (proj / "target" / "run" / "run_results.json").exists()
    # dbt-duckdb's database is closed: another configuration of the file opens
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert con.execute("select x from main.c").fetchall() == [(20,)]


def test_a_failing_model_fails_the_build_with_its_message(tmp_path, warehouse):
    proj = project(tmp_path / "failing", failing=True)
    invocation = invoke(proj, ["build"])
    with pytest.raises(DagsterDbtCliRuntimeError, match="the price list is empty"):
        list(invocation.stream_raw_events())
    assert invocation.process.returncode == 1
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert con.execute("select x from main.b").fetchall() == [(2,)]


def test_an_error_outside_the_nodes_reaches_the_error_raised(tmp_path, warehouse):
    proj = project(tmp_path / "broken")
    (proj / "models" / "b.sql").write_text("select {{ ref('no_such_model') }}")
    invocation = invoke(proj, ["build"])
    with pytest.raises(DagsterDbtCliRuntimeError, match="no_such_model"):
        list(invocation.stream_raw_events())
    assert invocation.process.returncode in (1, 2)


def test_the_behavior_flag_source_is_the_module_inspect_names():
    """The cheap replacement of dbt-common's inspect.stack() walk names the same module."""
    import inspect

    from dbt_common.behavior_flags import BehaviorFlagRendered

    from orchestration.lib.dbt_in_process import _caller_module

    def by_inspect() -> str:  # dbt-common's own rule, as it was before the replacement
        for frame in inspect.stack():
            if (module := inspect.getmodule(frame[0])) and module.__name__ != "dbt_common.behavior_flags":
                return module.__name__
        return "Unknown"

    assert _caller_module() == by_inspect() == __name__
    flag = BehaviorFlagRendered({"name": "some_flag", "default": False, "description": "d"}, {})
    assert flag._behavior_change_event.flag_source == __name__


def test_a_terminated_run_stops_dbt_within_seconds(tmp_path, warehouse):
    """What dagster-dbt does when the Dagster run is terminated: send_signal(SIGINT), then wait.
    A model that would run for minutes is stopped, the build fails, and the warehouse is free."""
    import signal
    import time

    proj = project(tmp_path / "slow")
    (proj / "models" / "c.sql").write_text("select sum(hash(i)) as x from range(100000000000) t(i)")
    invocation = invoke(proj, ["build"])
    signalled = None
    with pytest.raises(DagsterDbtCliRuntimeError):
        for event in invocation.stream_raw_events():
            if signalled is None and "main.c" in event.raw_event["info"]["msg"] \
                    and event.raw_event["info"]["name"] == "LogStartLine":
                time.sleep(1)  # the query is running
                signalled = time.monotonic()
                invocation.process.send_signal(signal.SIGINT)
    assert signalled is not None and time.monotonic() - signalled < 30
    assert invocation.process.returncode == 2
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert con.execute("select x from main.b").fetchall() == [(2,)]
        assert con.execute("select count(*) from information_schema.tables where table_name = 'c'").fetchall() \
            == [(0,)]
