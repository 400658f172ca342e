"""Where things live: one place so the CLI, Dagster and the tests agree."""
from __future__ import annotations

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
DBT_PROJECT_DIR = REPO_ROOT / "dbt_project"
DEFAULT_CATALOG = REPO_ROOT / "seeds" / "catalog"
DEFAULT_LANDING = REPO_ROOT / "seeds" / "landing"
DEFAULT_WAREHOUSE = Path("warehouse") / "tally.duckdb"
DEFAULT_PUBLISH = Path("published")
