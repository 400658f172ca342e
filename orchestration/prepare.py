"""Parse the dbt project when target/manifest.json is missing or older than a source file.

dagster-dbt reads the manifest when the definitions load; several processes may load them
at once (pytest workers, `dagster dev`'s code server), so the parse holds a file lock and
whoever waited re-checks before parsing again. `python -m orchestration.prepare` runs it."""
from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import sys
from pathlib import Path

from orchestration.paths import DBT_PROJECT_DIR


def dbt_executable() -> str:
    """`tally-dbt` beside this Python (dbt's command line without the interpreter's teardown:
    orchestration/lib/dbt_entry.py), else `dbt`: for the parse below (billing runs call dbt in
    their own process; dagster-dbt's resource still wants an executable it can find)."""
    ours = Path(sys.executable).with_name("tally-dbt")
    if ours.exists():
        return str(ours)
    return shutil.which("dbt") or str(Path(sys.executable).with_name("dbt"))


def _sources() -> list[Path]:
    """The files a parse reads. dbt's output folders are never walked: target/ holds one folder
    per warehouse billed (tens of thousands of files after a test run), and walking it cost
    seconds on every `tally` start."""
    found = []
    for root, dirs, files in os.walk(DBT_PROJECT_DIR):
        if Path(root) == DBT_PROJECT_DIR:
            dirs[:] = [d for d in dirs if d not in ("target", "logs", "dbt_packages")]
        found += [Path(root) / f for f in files if f.endswith((".sql", ".yml", ".csv"))]
    return found


def _stale(manifest: Path) -> bool:
    newest = max((p.stat().st_mtime for p in _sources()), default=0)
    return not manifest.exists() or manifest.stat().st_mtime < newest


def ensure_manifest() -> Path:
    manifest = DBT_PROJECT_DIR / "target" / "manifest.json"
    if not _stale(manifest):
        return manifest
    manifest.parent.mkdir(parents=True, exist_ok=True)
    with (manifest.parent / ".parse.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if _stale(manifest):
            env = {**os.environ, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
            subprocess.run([dbt_executable(), "parse", "--quiet", "--project-dir", str(DBT_PROJECT_DIR),
                            "--profiles-dir", str(DBT_PROJECT_DIR)], check=True, env=env, cwd=DBT_PROJECT_DIR)
    return manifest


if __name__ == "__main__":
    print(ensure_manifest())
