"""When things go wrong, without a run (tests/e2e/test_recovery.py kills and refuses real runs):
what SIGKILL can leave of a folder swap is cleared by the next publish."""
from __future__ import annotations


def test_publish_recovers_from_a_kill_between_folder_swap_and_cleanup(tmp_path):
    """What SIGKILL can leave of a folder swap (orchestration/folders.py): the old folder moved
    aside but not yet deleted, and a half-built temporary folder. The next publish of the same
    folder clears both and swaps in whole (found by review: the leftover `.old` used to make
    every later publish of that month fail with ENOTEMPTY)."""
    from orchestration.folders import staging_folder, swap_in

    out = tmp_path / "published"
    (out / "2026-10").mkdir(parents=True)
    (out / "2026-10" / "invoices.csv").write_text("invoice_id\ninv_current\n")
    (out / ".2026-10.old").mkdir()
    (out / ".2026-10.old" / "invoices.csv").write_text("invoice_id\ninv_older\n")
    (out / ".2026-10-half").mkdir()
    (out / ".2026-10-half" / "invoices.csv").write_text("invoice_id\ninv_hal")

    tmp = staging_folder(out / "2026-10")
    (tmp / "invoices.csv").write_text("invoice_id\ninv_new\n")
    swap_in(tmp, out / "2026-10")

    assert sorted(p.name for p in out.iterdir()) == ["2026-10"]
    assert (out / "2026-10" / "invoices.csv").read_text() == "invoice_id\ninv_new\n"


CRASH_SCRIPT = """
from orchestration.lib.crash import crash_point
for i in range(5):
    crash_point("files", f"step {i}")
    crash_point("swap", "elsewhere")
    print(i, flush=True)
"""


def test_crash_point_kills_at_the_nth_reach_of_its_point_and_is_inert_without_the_variable():
    """orchestration/lib/crash.py, the kill of tests/e2e/test_recovery.py: TALLY_CRASH_AT=files:3
    SIGKILLs the process the third time it reaches a `files` point, saying where on stderr; other
    points and an unset variable do nothing."""
    import os
    import signal
    import subprocess
    import sys

    from orchestration.lib.crash import CRASH_ENV
    from tests.helpers import REPO

    env = {k: v for k, v in os.environ.items() if k != CRASH_ENV}
    clean = subprocess.run([sys.executable, "-c", CRASH_SCRIPT], capture_output=True, text=True, env=env, cwd=REPO,
                           check=False)
    assert (clean.returncode, clean.stdout, clean.stderr) == (0, "0\n1\n2\n3\n4\n", "")
    for new_session in (False, True):  # alone, and as a process group's leader (it kills the group)
        killed = subprocess.run([sys.executable, "-c", CRASH_SCRIPT], capture_output=True, text=True, cwd=REPO,
                                env={**env, CRASH_ENV: "files:3"}, start_new_session=new_session, check=False)
        assert killed.returncode == -signal.SIGKILL
        assert killed.stdout == "0\n1\n"
        assert killed.stderr == "TALLY_CRASH_AT=files:3: SIGKILL at files point 3: step 2\n"
