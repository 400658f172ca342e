"""`billing/published` materialized alone in Dagster publishes only marts built for its window
over the current landing and catalog (orchestration/lib/build_state.py); otherwise it fails,
saying why, and the previous publication stays as it was."""
import shutil

import pytest
from dagster import AssetSelection, DagsterInstance, materialize

from orchestration.defs.dbt import billing_models
from orchestration.defs.landing import landed_events
from orchestration.defs.publish import published_billing
from orchestration.runner import _resources, failure_message
from tests.helpers import FIXTURES, SMALL_CATALOG, tally

pytestmark = pytest.mark.e2e


def publish_alone(resources, partition: str):
    return materialize([billing_models, published_billing], selection=AssetSelection.assets(published_billing),
                       partition_key=partition, resources=resources, instance=DagsterInstance.ephemeral(),
                       raise_on_error=False)


def failure(result) -> str:
    return failure_message(result)


def test_publishing_alone_needs_a_gated_build_of_its_window_over_the_current_inputs(tmp_path):
    landing, warehouse, published = tmp_path / "landing", tmp_path / "w.duckdb", tmp_path / "published"
    shutil.copytree(FIXTURES / "small" / "landing", landing)
    tally("run", "--catalog", str(SMALL_CATALOG), "--landing", str(landing), "--warehouse", str(warehouse),
          "--publish", str(published), "--period", "2026-10", "--no-pages")
    before = (published / "2026-10" / "invoices.csv").read_bytes()
    resources = _resources(SMALL_CATALOG, landing, warehouse, published)

    assert publish_alone(resources, "2026-10").success  # the marts hold exactly this build
    assert (published / "2026-10" / "invoices.csv").read_bytes() == before

    result = publish_alone(resources, "2026-09")
    assert not result.success
    assert "the marts hold the build of 2026-10-01 to 2026-11-01, not 2026-09-01 to 2026-10-01" in failure(result)
    assert not (published / "2026-09").exists()

    (landing / "late.jsonl").write_text('{"transaction_id": "tok_late", "external_subscription_id": "sub_a", '
                                        '"code": "tokens", "timestamp": "2026-10-20T10:00:00Z", '
                                        '"properties": {"tokens": 7, "model": "small"}}\n')
    assert materialize([landed_events], resources=resources, instance=DagsterInstance.ephemeral()).success
    result = publish_alone(resources, "2026-10")
    assert not result.success
    assert "files were landed or the catalog changed since the marts were built" in failure(result)
    assert (published / "2026-10" / "invoices.csv").read_bytes() == before
