"""orchestration/prepare.py: the manifest is parsed again when a dbt source is newer, and finding
the sources never walks dbt's output folders (target/ holds one folder per warehouse billed)."""
from __future__ import annotations

import os

from orchestration import prepare
from orchestration.paths import DBT_PROJECT_DIR


def test_the_sources_are_every_model_macro_seed_and_test_and_nothing_dbt_wrote():
    found = set(prepare._sources())
    want = {p for folder in ("models", "macros", "seeds", "tests")
            for p in (DBT_PROJECT_DIR / folder).rglob("*") if p.suffix in (".sql", ".yml", ".csv")}
    assert want and want <= found
    assert DBT_PROJECT_DIR / "dbt_project.yml" in found and DBT_PROJECT_DIR / "profiles.yml" in found
    assert not [p for p in found if p.relative_to(DBT_PROJECT_DIR).parts[0] in ("target", "logs", "dbt_packages")]


def test_a_source_newer_than_the_manifest_makes_it_stale(tmp_path):
    manifest = tmp_path / "manifest.json"
    assert prepare._stale(manifest)  # missing
    manifest.write_text("{}")
    newest = max(p.stat().st_mtime for p in prepare._sources())
    os.utime(manifest, (newest + 10, newest + 10))
    assert not prepare._stale(manifest)
    os.utime(manifest, (newest - 10, newest - 10))
    assert prepare._stale(manifest)
