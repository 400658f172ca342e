"""Low-level helpers shared by the CLI, the Dagster definitions and the loaders: no Dagster code
here (tests/test_import_graph.py keeps them from importing anything above them but paths)."""
