"""Publishing a folder whole: build it under a temporary name beside its final place, then
swap it in with two renames. A reader sees the old folder or the new one, never a mix; a
crash leaves at most leftovers, which the next publish clears before it starts."""
from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from orchestration.lib.crash import crash_point


def staging_folder(final: Path) -> Path:
    """A fresh, empty folder to build `final` in; leftovers of a killed publish are removed first
    (runs are serialized by the warehouse lock, so no other publish is writing them)."""
    final.parent.mkdir(parents=True, exist_ok=True)
    for leftover in final.parent.glob(f".{final.name}-*"):
        shutil.rmtree(leftover, ignore_errors=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{final.name}-", dir=final.parent))
    os.chmod(tmp, 0o755)  # mkdtemp makes it private; published files are meant to be read
    return tmp


def swap_in(tmp: Path, final: Path) -> None:
    old = final.with_name(f".{final.name}.old")
    shutil.rmtree(old, ignore_errors=True)  # left over by a crash between the two renames
    if final.exists():
        os.replace(final, old)
    crash_point("swap", f"{final.name} between the renames")
    os.replace(tmp, final)
    shutil.rmtree(old, ignore_errors=True)
