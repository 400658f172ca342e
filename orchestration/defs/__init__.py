"""The Dagster definitions, one module per asset family; orchestration/definitions.py composes them."""
