"""The Dagster side of a backfill, without running one (tests/e2e/test_backfill.py runs them):
the blocking Great Expectations checks sit between the billing models and publishing."""
from __future__ import annotations


def test_blocking_great_expectations_checks_gate_publishing():
    from orchestration.definitions import defs

    graph = defs.resolve_asset_graph()
    names = {"events_are_billable", "usage_is_consistent", "invoices_add_up"}
    gx = {key.name: graph.get_check_spec(key) for key in graph.asset_check_keys
          if key.name in names and key.asset_key.path[0] != "billing"}
    assert sorted(gx) == sorted(names)
    assert all(spec.blocking for spec in gx.values())
    assert {n: s.asset_key.to_user_string() for n, s in gx.items()} == {
        "events_are_billable": "staging/stg_events", "usage_is_consistent": "intermediate/int_usage_by_period",
        "invoices_add_up": "marts/fct_invoices"}
    # in the monthly billing job, publishing waits for the checks' step
    job = defs.resolve_job_def("bill_months")
    assert set(gx) <= {k.name for k in job.asset_layer.asset_graph.asset_check_keys}
    upstream = job.graph.dependency_structure.all_upstream_outputs_from_node("billing__published")
    assert "great_expectations_gates" in {o.node_name for o in upstream}
