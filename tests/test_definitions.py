"""The Dagster definitions load, and the billing models are partitioned by month."""
from dagster import Definitions
from dagster_dbt import get_asset_key_for_model

from orchestration.definitions import billing_models, billing_months, defs, published_billing


def test_definitions_load_and_partitioning():
    Definitions.validate_loadable(defs)
    assert billing_models.partitions_def == billing_months
    assert published_billing.partitions_def == billing_months
    keys = {k.to_user_string() for k in defs.resolve_asset_graph().get_all_asset_keys()}
    assert {"raw/events", "catalog/charges", "billing/published"} <= keys
    assert get_asset_key_for_model([billing_models], "fct_invoices").to_user_string() in keys
    assert billing_months.get_partition_keys()[:2] == ["2020-01-01", "2020-02-01"]
