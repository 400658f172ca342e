"""`--pdf` without a browser: the PDF dates, the warning where Chromium is missing, and the option
followed from the command line to the Dagster asset's config (tests/e2e/test_invoice_pages.py
prints real PDFs and follows it from publish.write_files to render_pdfs)."""
from __future__ import annotations

import logging
from datetime import date

import pytest
from click.testing import CliRunner

from orchestration import invoice_pdf
from orchestration.invoice_pdf import render_pdfs, set_dates

# Chromium's Info dictionary, as its PDFs carry it (the time of printing, UTC)
INFO = b"%PDF-1.4\n1 0 obj\n<</CreationDate (D:20261207123910+00'00')\n/ModDate (D:20261207123911+00'00')>>\n"


def test_pdf_dates_become_the_issuing_date_and_keep_their_length():
    stamped = set_dates(INFO, date(2026, 11, 1))
    assert stamped == INFO.replace(b"20261207123910", b"20261101000000").replace(b"20261207123911",
                                                                                 b"20261101000000")
    assert len(stamped) == len(INFO)   # the cross-reference table's byte offsets still hold
    assert b"D:19700101000000+00'00'" in set_dates(INFO, None)


def test_a_date_of_another_length_is_left_as_is():
    other = b"<</CreationDate (D:20261207123910Z)>>"   # valid PDF, but the stamp would be longer
    assert set_dates(other, date(2026, 11, 1)) == other


def test_structure_ids_are_numbered_in_their_order_at_their_width():
    # ids 35 < 253 < 254 become 1 < 2 < 3, eight digits as Chromium writes them
    tree = b"/ID (node00000253) /Names [(node00000035) 1 0 R (node00000254) 2 0 R (node00000253) 3 0 R]"
    assert invoice_pdf.number_nodes(tree) == \
        b"/ID (node00000002) /Names [(node00000001) 1 0 R (node00000003) 2 0 R (node00000002) 3 0 R]"


def test_without_chromium_a_warning_and_no_pdf_folder(tmp_path, monkeypatch, caplog):
    monkeypatch.setenv("TALLY_CHROMIUM", "no-such-chromium")
    (tmp_path / "pages" / "invoices").mkdir(parents=True)
    (tmp_path / "pages" / "invoices" / "inv_1.html").write_text("<p>1</p>")
    (tmp_path / "pdf").mkdir()   # from an earlier run: it would no longer match the pages
    (tmp_path / "pdf" / "inv_1.pdf").write_bytes(b"%PDF-")
    with caplog.at_level(logging.WARNING, logger="orchestration.invoice_pdf"):
        assert render_pdfs(tmp_path / "pages", tmp_path) == 0
    assert [p.name for p in tmp_path.iterdir()] == ["pages"]
    [record] = caplog.records
    assert "no Chromium found (looked for no-such-chromium on PATH)" in record.getMessage()
    assert "make browser" in record.getMessage()


def test_pdf_option_defaults_off_and_refuses_no_pages():
    from orchestration.cli import main
    from orchestration.defs.finalize import FinalizeConfig
    from orchestration.defs.publish import PublishConfig
    assert PublishConfig().pdf is False and FinalizeConfig().pdf is False
    result = CliRunner().invoke(main, ["run", "--pdf", "--no-pages"])
    assert result.exit_code == 2 and "--pdf prints the invoice pages" in result.output


@pytest.mark.parametrize("args, pdf", [([], False), (["--pdf"], True), (["--no-pdf"], False)])
def test_run_passes_pdf_to_the_runner(tmp_path, monkeypatch, args, pdf):
    from orchestration import cli, runner
    seen = {}

    def fake_run(*_, **kwargs):
        seen.update(kwargs)
        raise runner.RunError("stopped by the test")
    monkeypatch.setattr(runner, "run", fake_run)
    monkeypatch.setattr(invoice_pdf, "find_chromium", lambda: "/usr/bin/chromium")
    result = CliRunner().invoke(cli.main, ["run", "--warehouse", str(tmp_path / "w.duckdb"), *args])
    assert result.exit_code == 1
    assert seen["pdf"] is pdf and seen["pages"] is True


@pytest.mark.parametrize("pdf", [False, True])
def test_runner_sets_the_published_asset_config(monkeypatch, pdf):
    import dagster

    from orchestration import runner
    from orchestration.defs.publish import published_billing
    seen = {}

    class Result:
        success = True

    def fake_materialize(*_, run_config, **__):
        seen.update(run_config["ops"][published_billing.op.name]["config"])
        return Result()
    monkeypatch.setattr(dagster, "materialize", fake_materialize)
    runner._bill(None, {}, date(2026, 10, 1), date(2026, 10, 1), pages=True, pdf=pdf)
    assert seen == {"pages": True, "pdf": pdf}


def test_finalize_passes_pdf(tmp_path, monkeypatch):
    import duckdb

    from orchestration import finalize as finalizer
    from orchestration.cli import main
    duckdb.connect(str(tmp_path / "w.duckdb")).close()
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    monkeypatch.setattr(invoice_pdf, "find_chromium", lambda: "/usr/bin/chromium")
    seen = {}

    def fake_finalize(con, month, today, publish, force=False, pdf=False):
        seen.update(month=month, pdf=pdf)
        return finalizer.Finalized(month, 0, [], already=True)
    monkeypatch.setattr(finalizer, "finalize", fake_finalize)
    result = CliRunner().invoke(main, ["finalize", "--period", "2026-10", "--warehouse", str(tmp_path / "w.duckdb"),
                                       "--publish", str(tmp_path / "out"), "--pdf"])
    assert result.exit_code == 0, result.output
    assert seen == {"month": date(2026, 10, 1), "pdf": True}


def test_a_browser_that_ends_at_once_is_an_error_and_leaves_nothing(tmp_path, monkeypatch):
    # `false` takes the place of Chromium: it exits before answering the first command
    monkeypatch.setenv("TALLY_CHROMIUM", "false")
    (tmp_path / "pages" / "invoices").mkdir(parents=True)
    (tmp_path / "pages" / "invoices" / "inv_1.html").write_text("<p>1</p>")
    with pytest.raises(invoice_pdf.PdfError, match=r"Chromium ended (before|during) Target.createTarget"):
        render_pdfs(tmp_path / "pages", tmp_path)
    assert [p.name for p in tmp_path.iterdir()] == ["pages"]
