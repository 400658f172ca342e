"""Static invoice and customer pages (orchestration/invoice_pages.py), from one `tally run --publish`
over tests/fixtures/small, with a customer name full of HTML specials; then opened in headless
Chromium to check that a real browser renders the totals and the usage chart, and printed to PDF
(orchestration/invoice_pdf.py)."""
from __future__ import annotations

import csv
import os
import re
import shutil
import struct
import subprocess
import zlib
from decimal import Decimal as D
from pathlib import Path

import duckdb
import pytest

from orchestration.invoice_pages import render_pages
from orchestration.invoice_pdf import render_pdfs
from tests.helpers import REPO, copy_landing, rows, tally, write_api_calls_parquet

NASTY_NAME = 'Acme <b>"Bold"</b> & Sons'
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
WINDOW = (1200, 1600)


@pytest.fixture(scope="module")
def site(tmp_path_factory, small_catalog):
    """The one `tally run` of this module: the small fixture, cus_a renamed to NASTY_NAME."""
    base = tmp_path_factory.mktemp("pages")
    catalog = base / "catalog"
    shutil.copytree(small_catalog, catalog)
    with (catalog / "customers.csv").open(newline="") as f:
        reader = csv.DictReader(f)
        fields, customers = reader.fieldnames, list(reader)
    for c in customers:
        if c["external_id"] == "cus_a":
            c["name"] = NASTY_NAME
    with (catalog / "customers.csv").open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=fields)
        writer.writeheader()
        writer.writerows(customers)
    landing = copy_landing("small", base / "landing")
    write_api_calls_parquet(landing / "c_calls.parquet", 10_005)
    warehouse = base / "w.duckdb"
    tally("run", "--catalog", str(catalog), "--landing", str(landing), "--warehouse", str(warehouse),
          "--period", "2026-10", "--publish", str(base / "published"))
    return {"base": base, "warehouse": warehouse, "published": base / "published",
            "pages": base / "published" / "pages"}


def invoice_total(html: str) -> str:
    match = re.search(r'id="invoice-total"[^>]*>([^<]*)<', html)
    assert match, "no #invoice-total element"
    return match.group(1).strip()


@pytest.mark.parametrize("invoice_id, total", [
    ("inv_sub_a_20261001", "$62.77"),
    ("inv_sub_b_20261016", "€88.20"),
    ("inv_sub_b_20261016_open", "€15.48"),
    ("inv_sub_c_20261001", "¥724"),     # JPY has no minor unit
])
def test_invoice_total_in_currency_format(site, invoice_id, total):
    html = (site["pages"] / "invoices" / f"{invoice_id}.html").read_text(encoding="utf-8")
    assert invoice_total(html) == total


def test_invoice_page_shows_lines_and_tiers(site):
    html = (site["pages"] / "invoices" / "inv_sub_a_20261001.html").read_text(encoding="utf-8")
    assert html.count('<tr class="line"') == 5
    # the graduated API-calls line: 10,000 free, then 5 × $0.002 = $0.01
    assert "Tier 1: 0 – 10,000" in html and "Tier 2: 10,001 – ∞" in html
    assert "$0.002" in html
    labels = re.findall(r"<tr(?: class=\"\w+\")?><td>([^<]+)</td><td class=\"num\"", html)
    assert labels == ["Fees", "Progressive billing credit", "Coupons", "Sub-total excl. taxes", "Taxes",
                      "Sub-total incl. taxes", "Credit notes", "Prepaid credits", "Total"]


def test_customer_name_is_escaped(site):
    pages = [site["pages"] / "index.html", site["pages"] / "customers" / "cus_a.html",
             site["pages"] / "invoices" / "inv_sub_a_20261001.html"]
    for page in pages:
        html = page.read_text(encoding="utf-8")
        assert "Acme &lt;b&gt;&#34;Bold&#34;&lt;/b&gt; &amp; Sons" in html, page
        assert "<b>" not in html and "</b>" not in html, page


@pytest.mark.parametrize("customer", ["cus_a", "cus_b", "cus_c"])
def test_customer_page_lists_its_invoices_and_charts_its_metrics(site, customer):
    html = (site["pages"] / "customers" / f"{customer}.html").read_text(encoding="utf-8")
    expected = {i for (i,) in rows(site["warehouse"], "select invoice_id from billing.invoices "
                                                      "where external_customer_id = ?", [customer])}
    assert expected
    linked = re.findall(r'href="\.\./invoices/([^"]+)\.html"', html)
    assert sorted(linked) == sorted(expected)
    for invoice_id in linked:
        assert (site["pages"] / "invoices" / f"{invoice_id}.html").exists()
    metrics = {m for (m,) in rows(site["warehouse"], "select distinct billable_metric_code from billing.usage "
                                                     "where external_customer_id = ?", [customer])}
    svg = re.search(r"<svg\b.*?</svg>", html, re.DOTALL)
    assert svg, "no inline svg chart"
    assert sorted(re.findall(r'<g class="series" data-metric="([^"]+)"', svg.group(0))) == sorted(metrics)


def test_index_links_every_customer(site):
    html = (site["pages"] / "index.html").read_text(encoding="utf-8")
    assert re.findall(r'href="customers/([^"]+)\.html"', html) == ["cus_a", "cus_b", "cus_c"]


def test_rerender_is_identical_swapped_whole_and_leaves_no_temp_folders(site, tmp_path):
    stale = site["pages"] / "invoices" / "inv_gone.html"
    stale.write_text("from an earlier run")
    out = tmp_path / "again"
    with duckdb.connect(str(site["warehouse"]), read_only=True) as con:
        render_pages(con, site["published"])
        render_pages(con, out)
    assert not stale.exists()
    assert not [p.name for p in site["published"].iterdir() if p.name.startswith(".")]
    first = {p.relative_to(site["pages"]): p.read_bytes() for p in site["pages"].rglob("*") if p.is_file()}
    second = {p.relative_to(out / "pages"): p.read_bytes() for p in (out / "pages").rglob("*") if p.is_file()}
    assert first == second and len(first) == 4 + 3 + 2   # invoices, customers, index and revenue


# --- a real browser -------------------------------------------------------------------------

CHROMIUM_NAMES = ("chromium", "chromium-browser")


@pytest.fixture(scope="session")
def chromium() -> str:
    """A headless-capable Chromium on PATH (Debian: `apt-get install chromium`). Tests do not
    install it: without one, the browser tests are skipped and say why."""
    path = next((found for name in CHROMIUM_NAMES if (found := shutil.which(name))), None)
    if path is None:
        pytest.skip(f"no Chromium on PATH (looked for {', '.join(CHROMIUM_NAMES)}): the pages are checked "
                    "without a browser; install it (Debian: apt-get install chromium) for the browser tests")
    return path


def browse(chromium: str, page: Path, tmp_path: Path) -> tuple[bytes, str]:
    """Screenshot and rendered DOM of a page, each from its own headless Chromium."""
    base = [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
            f"--user-data-dir={tmp_path / 'profile'}"]
    shot = tmp_path / "page.png"
    subprocess.run([*base, f"--screenshot={shot}", f"--window-size={WINDOW[0]},{WINDOW[1]}", page.as_uri()],
                   check=True, capture_output=True, timeout=120)
    dom = subprocess.run([*base, "--dump-dom", page.as_uri()], check=True, capture_output=True, text=True,
                         timeout=120)
    return shot.read_bytes(), dom.stdout


def assert_plausible_png(png: bytes) -> None:
    assert png.startswith(PNG_SIGNATURE)
    assert struct.unpack(">II", png[16:24]) == WINDOW   # IHDR width and height
    assert 5_000 < len(png) < 5_000_000


def test_invoice_page_in_headless_chromium(chromium, site, tmp_path):
    png, dom = browse(chromium, site["pages"] / "invoices" / "inv_sub_a_20261001.html", tmp_path)
    assert_plausible_png(png)
    assert invoice_total(dom) == "$62.77"
    assert "Acme &lt;b&gt;" in dom and "<b>" not in dom


def test_customer_page_in_headless_chromium(chromium, site, tmp_path):
    png, dom = browse(chromium, site["pages"] / "customers" / "cus_b.html", tmp_path)
    assert_plausible_png(png)
    assert "€88.20" in dom and "€15.48" in dom
    assert re.search(r"<svg\b", dom) and 'data-metric="storage_gb"' in dom


def dom_figures(dom: str, table: str, field: str) -> dict[tuple[str, str], D]:
    """(data-month or data-rank, data-currency) -> data-value of one column of a revenue-page table."""
    body = re.search(rf'<table id="{table}".*?</table>', dom, re.DOTALL)
    assert body, f"no #{table}"
    out = {}
    for attrs, row in re.findall(r"<tr (data-[^>]*)>(.*?)</tr>", body.group(0), re.DOTALL):
        key = dict(re.findall(r'data-(\w+)="([^"]*)"', attrs))
        cell = re.search(rf'data-field="{field}" data-value="([^"]*)"', row)
        if cell and cell.group(1):
            out[(key.get("month") or key.get("rank"), key["currency"])] = D(cell.group(1))
    return out


def test_revenue_page_in_headless_chromium(chromium, site, tmp_path):
    """pages/revenue.html as Chromium renders it holds the figures of billing.revenue_by_month and
    billing.invoices. TALLY_UPDATE_SCREENSHOTS=1 keeps its picture for the README."""
    png, dom = browse(chromium, site["pages"] / "revenue.html", tmp_path)
    assert_plausible_png(png)
    if os.environ.get("TALLY_UPDATE_SCREENSHOTS"):
        (REPO / "docs" / "screenshots" / "revenue.png").write_bytes(png)
    by_month = rows(site["warehouse"], "select strftime(billing_month, '%Y-%m'), currency, sub_total_excluding_taxes, "
                                       "total_amount from billing.revenue_by_month")
    revenue = dom_figures(dom, "revenue-by-currency", "sub_total_excluding_taxes")
    # the small fixture's October (test_revenue.py): 62.77 USD, 15.48 + 88.20 EUR, 724 JPY
    assert revenue == {(m, c): s for m, c, s, _ in by_month} == {
        ("2026-10", "EUR"): D("103.68"), ("2026-10", "JPY"): D("724"), ("2026-10", "USD"): D("62.77")}
    assert dom_figures(dom, "revenue-by-currency", "total_amount") == {(m, c): t for m, c, _, t in by_month}
    assert dom_figures(dom, "revenue-by-type", "revenue") == revenue
    # no fx rates in the fixture: only USD, the reporting currency, is converted
    assert dom_figures(dom, "revenue-reporting-total", "sub_total_excluding_taxes_reporting") == {
        ("2026-10", "USD"): D("62.77")}
    per_customer = rows(site["warehouse"], "select currency, external_customer_id, sum(sub_total_excluding_taxes) "
                                           "from billing.invoices where invoice_type <> 'credit' group by all")
    top = dom_figures(dom, "top-customers", "revenue")
    assert sorted((c, r) for (_, c), r in top.items()) == sorted((c, r) for c, _, r in per_customer)
    assert "€103.68" in dom and "¥724" in dom and "$62.77" in dom
    assert "Acme &lt;b&gt;" in dom and "<b>" not in dom


# --- printing: the print stylesheet and the PDFs (orchestration/invoice_pdf.py) ---------------

TOTALS = [("inv_sub_a_20261001", "$62.77"), ("inv_sub_b_20261016", "€88.20"),
          ("inv_sub_b_20261016_open", "€15.48"), ("inv_sub_c_20261001", "¥724")]


def test_invoice_page_carries_its_print_stylesheet_and_issuing_date(site):
    html = (site["pages"] / "invoices" / "inv_sub_a_20261001.html").read_text(encoding="utf-8")
    css = re.search(r"@media print \{\n(.*?)\n\}\n</style>", html, re.DOTALL)
    assert css, "no print stylesheet"
    rules = css.group(1)
    assert "@page { size: A4;" in rules and "nav { display: none; }" in rules
    assert "tr, dl.header, table.totals { break-inside: avoid; }" in rules
    assert "content:" not in rules   # no URL printed after the links
    # the PDF's date: October's invoice is issued on the day after the period, 2026-11-01
    assert '<meta name="dcterms.issued" content="2026-11-01">' in html


def pdf_objects(pdf: bytes) -> dict[int, bytes]:
    return {int(n): body for n, body in re.findall(rb"(?m)^(\d+) 0 obj\s*(.*?)endobj", pdf, re.DOTALL)}


def pdf_stream(body: bytes) -> bytes:
    data = re.search(rb"stream\r?\n(.*?)\r?\nendstream", body, re.DOTALL).group(1)
    return zlib.decompress(data) if b"/FlateDecode" in body else data


def pdf_page_count(pdf: bytes) -> int:
    """The page objects (`/Type /Page`, not the `/Type /Pages` tree), checked against the tree's count."""
    pages = len(re.findall(rb"/Type\s*/Page(?![s\w])", pdf))
    assert re.findall(rb"/Type\s*/Pages\b.*?/Count (\d+)", pdf, re.DOTALL) == [str(pages).encode()]
    return pages


def pdf_text(pdf: bytes) -> str:
    """The text of a Chromium (Skia) PDF, one line per text object: Type0 fonts with Identity-H
    codes (two bytes a glyph) shown by hex-string Tj/TJ, mapped back by each font's ToUnicode
    CMap (bfchar and bfrange). Just what Skia writes: no general PDF parser."""
    objects = pdf_objects(pdf)

    def to_unicode(font: int) -> dict[int, str]:
        cmap = pdf_stream(objects[int(re.search(rb"/ToUnicode (\d+) 0 R", objects[font]).group(1))]).decode()
        glyphs = {}
        for block in re.findall(r"beginbfchar(.*?)endbfchar", cmap, re.DOTALL):
            for src, dst in re.findall(r"<([0-9A-F]+)>\s*<([0-9A-F]+)>", block):
                glyphs[int(src, 16)] = bytes.fromhex(dst).decode("utf-16-be")
        for block in re.findall(r"beginbfrange(.*?)endbfrange", cmap, re.DOTALL):
            for low, high, dst in re.findall(r"<([0-9A-F]+)>\s*<([0-9A-F]+)>\s*<([0-9A-F]+)>", block):
                for i in range(int(high, 16) - int(low, 16) + 1):
                    glyphs[int(low, 16) + i] = chr(int(dst, 16) + i)
        return glyphs

    lines = []
    for body in objects.values():
        if not re.search(rb"/Type\s*/Page(?![s\w])", body):
            continue
        fonts = {name.decode(): to_unicode(int(ref)) for name, ref in
                 re.findall(rb"/(F\d+) (\d+) 0 R", re.search(rb"/Font\s*<<(.*?)>>", body, re.DOTALL).group(1))}
        content = pdf_stream(objects[int(re.search(rb"/Contents (\d+) 0 R", body).group(1))]).decode("latin-1")
        for block in re.findall(r"\bBT\b(.*?)\bET\b", content, re.DOTALL):
            glyphs, text = {}, ""
            for font, shown in re.findall(r"/(F\d+) [\d.]+ Tf|(\[[^\]]*\]\s*TJ|<[0-9A-Fa-f]*>\s*Tj)", block):
                if font:
                    glyphs = fonts[font]
                for code in re.findall(r"<([0-9A-Fa-f]*)>", shown):
                    text += "".join(glyphs.get(int(code[i:i + 4], 16), "?") for i in range(0, len(code), 4))
            lines.append(text)
    return "\n".join(lines)


@pytest.fixture(scope="module")
def printed(chromium, site, tmp_path_factory) -> Path:
    """render_pdfs over the module's pages: the pdf folder."""
    out = tmp_path_factory.mktemp("printed")
    assert render_pdfs(site["pages"], out) == 4
    return out / "pdf"


def test_one_pdf_per_invoice_page(printed, site):
    pages = sorted(p.stem for p in (site["pages"] / "invoices").glob("*.html"))
    assert sorted(p.stem for p in printed.iterdir()) == pages == sorted(i for i, _ in TOTALS)
    assert not [p.name for p in printed.parent.iterdir() if p.name.startswith(".")]   # no staging left


@pytest.mark.parametrize("invoice_id, total", TOTALS)
def test_invoice_pdf_is_one_a4_page_with_its_total(printed, site, invoice_id, total):
    pdf = (printed / f"{invoice_id}.pdf").read_bytes()
    assert pdf.startswith(b"%PDF-") and pdf.rstrip().endswith(b"%%EOF")
    assert pdf_page_count(pdf) == 1
    # A4 is 210 × 297 mm = 595.3 × 841.9 pt; Chromium rounds it to whole CSS pixels
    width, height = map(float, re.search(rb"/MediaBox \[0 0 ([\d.]+) ([\d.]+)\]", pdf).groups())
    assert (round(width), round(height)) == (595, 842)
    text = pdf_text(pdf)
    assert f"Total\n{total}" in text, text
    assert f"Invoice {invoice_id}" in text
    # no navigation printed, and no link (its file:// path would make the bytes depend on the folder)
    assert "Customers" not in text and b"/URI" not in pdf and str(site["pages"]).encode() not in pdf
    [issued] = [d for (d,) in rows(site["warehouse"], "select issuing_date from billing.invoices "
                                                      "where invoice_id = ?", [invoice_id])]
    assert re.findall(rb"/(?:Creation|Mod)Date \(([^)]*)\)", pdf) == [f"D:{issued:%Y%m%d}000000+00'00'".encode()] * 2


def test_pdf_prints_the_customer_name_as_text(printed):
    text = pdf_text((printed / "inv_sub_a_20261001.pdf").read_bytes())
    assert NASTY_NAME in text.splitlines()   # the escaped page prints the name as written


def test_pdf_is_the_same_bytes_when_printed_again(printed, site, tmp_path):
    (tmp_path / "pages" / "invoices").mkdir(parents=True)
    shutil.copy(site["pages"] / "invoices" / "inv_sub_b_20261016.html", tmp_path / "pages" / "invoices")
    assert render_pdfs(tmp_path / "pages", tmp_path) == 1
    assert (tmp_path / "pdf" / "inv_sub_b_20261016.pdf").read_bytes() == \
        (printed / "inv_sub_b_20261016.pdf").read_bytes()


def test_25_lines_fit_one_a4_page_and_80_do_not(chromium, site, tmp_path):
    """The module's largest invoice with its lines copied up to 25 (one page, as the print
    stylesheet promises for an ordinary invoice) and up to 80 (breaks onto more pages)."""
    html = (site["pages"] / "invoices" / "inv_sub_a_20261001.html").read_text(encoding="utf-8")
    line = re.search(r'<tr class="line" .*?</tr>\n', html, re.DOTALL).group(0)
    assert html.count('<tr class="line"') == 5   # and 2 tier rows
    (tmp_path / "pages" / "invoices").mkdir(parents=True)
    for lines in (25, 80):
        longer = html.replace(line, line * (lines - 4), 1)
        assert longer.count('<tr class="line"') == lines
        (tmp_path / "pages" / "invoices" / f"lines_{lines}.html").write_text(longer, encoding="utf-8")
    assert render_pdfs(tmp_path / "pages", tmp_path) == 2
    assert pdf_page_count((tmp_path / "pdf" / "lines_25.pdf").read_bytes()) == 1
    long_pdf = (tmp_path / "pdf" / "lines_80.pdf").read_bytes()
    assert pdf_page_count(long_pdf) > 1
    assert "Total\n$62.77" in pdf_text(long_pdf)   # the totals block printed whole, on the last page


def test_write_files_with_pdf_prints_the_pages_it_rendered(site, tmp_path, monkeypatch):
    """`tally run --pdf` reaches publish.write_files as pdf=True (tests/unit/test_invoice_pdf.py
    follows it from the command line to there): the pages rendered, then printed; without --pdf a
    pdf folder of an earlier run is removed (its invoices may since have changed)."""
    from datetime import date

    from orchestration import publish
    calls = []
    monkeypatch.setattr(publish, "render_pdfs", lambda pages, out: calls.append((pages, out)) or 0)
    with duckdb.connect(str(site["warehouse"]), read_only=True) as con:
        publish.write_files(con, date(2026, 10, 1), date(2026, 11, 1), tmp_path, pdf=True)
        assert calls == [(tmp_path / "pages", tmp_path)]
        assert len(list((tmp_path / "pages" / "invoices").glob("*.html"))) == 4
        (tmp_path / "pdf").mkdir()
        (tmp_path / "pdf" / "inv_old.pdf").write_bytes(b"%PDF-")
        publish.write_files(con, date(2026, 10, 1), date(2026, 11, 1), tmp_path)
    assert len(calls) == 1 and not (tmp_path / "pdf").exists()
