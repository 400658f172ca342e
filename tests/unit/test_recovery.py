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
