"""What the rule modules of orchestration/catalog/ share: reading a catalog file (files), reading
one cell (cells), collecting the problems (check) and the typed rows' tables in DuckDB (tables).

A package of its own, not modules of orchestration/catalog/: importing orchestration.catalog.x
runs orchestration/catalog/__init__.py, which imports every rule module, so a rule module that
imported a sibling would close an import cycle (tests/unit/test_import_graph.py)."""
