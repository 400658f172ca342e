"""Static invoice and customer pages (orchestration/invoice_pages.py), from one `tally run --publish`
over tests/fixtures/small, with a customer name full of HTML specials; then opened in headless
Chromium to check that a real browser renders the totals and the usage chart."""
from __future__ import annotations

import csv
import os
import re
import shutil
import struct
import subprocess
from decimal import Decimal as D
from pathlib import Path

import duckdb
import pytest

from orchestration.invoice_pages import render_pages
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
