"""Publishing copies only marts built for its window over the current landing and catalog, and
gated (orchestration/lib/build_state.py): the README's old known limit, `billing/published`
materialized alone in Dagster, now refuses instead of publishing whatever the marts held."""
import duckdb
import pytest

from orchestration.lib import build_state
from orchestration.lib.build_state import NotBuilt

OCTOBER = {"billing_from": "2026-10-01", "billing_to": "2026-11-01"}
SEPT_OCT = {"billing_from": "2026-09-01", "billing_to": "2026-11-01"}


@pytest.fixture
def con():
    c = duckdb.connect()
    c.execute("create schema raw")
    c.execute("create table raw.landing_files (load_sequence bigint)")
    c.execute("insert into raw.landing_files values (1), (2)")
    c.execute("create table raw.rating_state (catalog_fingerprint varchar, catalog_fingerprint_all varchar)")
    c.execute("insert into raw.rating_state values ('r', 'all-1')")
    return c


def built_and_gated(con, window=OCTOBER):
    build_state.build_started(con)
    build_state.build_finished(con, window)
    build_state.gates_passed(con, window)


def test_a_gated_build_of_the_window_is_publishable(con):
    built_and_gated(con)
    build_state.require_publishable(con, OCTOBER)


def test_nothing_built_refuses(con):
    with pytest.raises(NotBuilt, match="last dbt build did not finish"):
        build_state.require_publishable(con, OCTOBER)


def test_a_build_that_started_and_did_not_finish_refuses_even_after_an_earlier_good_build(con):
    built_and_gated(con)
    build_state.build_started(con)  # killed or failed here
    with pytest.raises(NotBuilt, match="did not finish"):
        build_state.require_publishable(con, OCTOBER)


def test_another_window_refuses(con):
    built_and_gated(con, SEPT_OCT)
    with pytest.raises(NotBuilt, match="hold the build of 2026-09-01 to 2026-11-01, not 2026-10-01 to 2026-11-01"):
        build_state.require_publishable(con, OCTOBER)


def test_a_file_landed_after_the_build_refuses(con):
    built_and_gated(con)
    con.execute("insert into raw.landing_files values (3)")
    with pytest.raises(NotBuilt, match="files were landed or the catalog changed"):
        build_state.require_publishable(con, OCTOBER)


def test_a_catalog_change_after_the_build_refuses(con):
    built_and_gated(con)
    con.execute("update raw.rating_state set catalog_fingerprint_all = 'all-2'")
    with pytest.raises(NotBuilt, match="files were landed or the catalog changed"):
        build_state.require_publishable(con, OCTOBER)


def test_a_build_whose_gates_failed_refuses(con):
    build_state.build_started(con)
    build_state.build_finished(con, OCTOBER)
    with pytest.raises(NotBuilt, match="Great Expectations gates did not pass"):
        build_state.require_publishable(con, OCTOBER)


def test_gates_of_another_window_do_not_pass_this_build(con):
    build_state.build_started(con)
    build_state.build_finished(con, OCTOBER)
    build_state.gates_passed(con, SEPT_OCT)
    with pytest.raises(NotBuilt, match="gates did not pass"):
        build_state.require_publishable(con, OCTOBER)
