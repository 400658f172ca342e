"""The dbt unit tests of every charge model and aggregation (models/intermediate/<step>/_unit_tests_*.yml),
each named after the Lago example or edge case it reproduces, run on a fresh warehouse."""
import json
import os
import subprocess
import sys
from pathlib import Path

import duckdb

from orchestration import catalog, landing
from orchestration.paths import DBT_PROJECT_DIR

DBT = str(Path(sys.executable).with_name("dbt"))


def dbt(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "TALLY_WAREHOUSE": str(tmp_path / "w.duckdb"), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    return subprocess.run([DBT, *args, "--profiles-dir", str(DBT_PROJECT_DIR), "--project-dir", str(DBT_PROJECT_DIR),
                           "--target-path", str(tmp_path / "target"), "--log-path", str(tmp_path / "logs")],
                          check=False, capture_output=True, text=True, env=env, cwd=DBT_PROJECT_DIR, timeout=900)


def test_unit_tests_pass(tmp_path, small_catalog):
    (tmp_path / "landing").mkdir()
    with duckdb.connect(str(tmp_path / "w.duckdb")) as con:
        catalog.load(con, small_catalog)
        landing.load(con, tmp_path / "landing")
    # unit tests need their parents to exist, not to hold rows: `build --empty` makes them as empty tables
    built = dbt(tmp_path, "build", "--empty", "--exclude", "test_type:unit")
    assert built.returncode == 0, built.stdout[-3000:]
    run = dbt(tmp_path, "test", "--select", "test_type:unit")
    assert run.returncode == 0, run.stdout[-5000:]
    results = json.loads((tmp_path / "target" / "run_results.json").read_text())["results"]
    names = {r["unique_id"].split(".")[-1] for r in results}
    assert all(r["status"] == "pass" for r in results)
    # every charge model and aggregation has its tests
    for word in ("graduated", "volume", "package", "percentage", "standard", "dynamic", "count", "sum", "max",
                 "latest", "unique", "weighted"):
        assert any(word in n for n in names), f"no unit test mentions {word}"
    # and so do the invoice steps after rating
    for word in ("coupons", "taxes", "wallets", "commitment", "credit_notes"):
        assert any(n.startswith(word) for n in names), f"no unit test starts with {word}"
