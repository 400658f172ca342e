"""Print the invoice pages to PDF with headless Chromium: <out_dir>/pdf/<invoice_id>.pdf, one per
pages/invoices/*.html, built in a temporary folder and swapped in whole (orchestration/folders.py).

One Chromium prints every page, driven over the DevTools protocol on a pipe
(--remote-debugging-pipe: JSON messages ending in NUL on file descriptors 3 and 4, no extra
package). A Chromium per page (`chromium --headless --no-pdf-header-footer --print-to-pdf=F URL`;
Chromium 150 ignores the older `--print-to-pdf-no-header` and prints title, URL and page number)
spends ~1 s starting up for each invoice; one browser prints a page in ~0.1 s.

The page's print stylesheet (templates/base.html.j2, @media print) sets A4 and the margins; no
header or footer is added. The same invoice gives the same bytes: Chromium writes the time of
printing as the PDF's CreationDate and ModDate, both replaced by the invoice's issuing date (its
page's dcterms.issued); the tagged PDF's structure ids (nodeNNNNNNNN) are the browser's DOM node
numbers, which grow from page to page, renumbered 1, 2, ... in their order.
"""
from __future__ import annotations

import base64
import fcntl
import json
import logging
import os
import re
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Self

from orchestration.folders import staging_folder, swap_in

log = logging.getLogger(__name__)

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome")
INSTALL = "`make browser` (Debian: apt-get install chromium)"
TIMEOUT = 60  # seconds for one protocol answer: a page is local, static, without scripts
# Chromium reads the protocol on fd 3 and answers on fd 4: this moves the pipes there, then
# becomes Chromium (a preexec_fn could do it, but is unsafe in a process with threads: Dagster)
TRAMPOLINE = ("import os, sys; r, w = int(sys.argv[1]), int(sys.argv[2]); os.dup2(r, 3); os.dup2(w, 4); "
              "os.close(r); os.close(w); os.execv(sys.argv[3], sys.argv[3:])")


class PdfError(RuntimeError):
    """Chromium could not print a page; the message says which and why."""


def find_chromium() -> str | None:
    """TALLY_CHROMIUM, else the first Chromium on PATH."""
    if os.environ.get("TALLY_CHROMIUM"):
        return shutil.which(os.environ["TALLY_CHROMIUM"])
    return next((found for name in CHROMIUM_NAMES if (found := shutil.which(name))), None)


def missing_chromium() -> str | None:
    """Why no PDF can be printed here, for people; None when Chromium is there."""
    if find_chromium():
        return None
    return (f"--pdf: no Chromium found (looked for {os.environ.get('TALLY_CHROMIUM') or ', '.join(CHROMIUM_NAMES)}"
            f" on PATH): no PDFs written; install it with {INSTALL}")


def render_pdfs(pages_dir: Path, out_dir: Path) -> int:
    """Write out_dir/pdf/<invoice_id>.pdf for every pages_dir/invoices/*.html; returns the PDF count.
    Without Chromium: a warning, no pdf folder (an earlier one is removed: it may be stale), 0."""
    pages = sorted((Path(pages_dir) / "invoices").glob("*.html"))
    final = Path(out_dir) / "pdf"
    chromium = find_chromium()
    if chromium is None:
        log.warning(missing_chromium())
        remove_pdfs(out_dir)
        return 0
    tmp = staging_folder(final)
    try:
        with Browser(chromium) as browser:
            for page in pages:
                pdf = browser.print_to_pdf(page.resolve().as_uri())
                (tmp / f"{page.stem}.pdf").write_bytes(number_nodes(set_dates(pdf, issued(page))))
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    swap_in(tmp, final)
    return len(pages)


def remove_pdfs(out_dir: Path) -> None:
    """No pdf folder: pages rendered again without --pdf would leave it describing older invoices."""
    for folder in (Path(out_dir) / "pdf", *Path(out_dir).glob(".pdf-*"), Path(out_dir) / ".pdf.old"):
        shutil.rmtree(folder, ignore_errors=True)


def issued(page: Path) -> date | None:
    match = re.search(r'<meta name="dcterms.issued" content="(\d{4}-\d{2}-\d{2})', page.read_text(encoding="utf-8"))
    return date.fromisoformat(match.group(1)) if match else None


PDF_DATE = re.compile(rb"/(CreationDate|ModDate) \(D:\d{14}[^)]{0,7}\)")


def set_dates(pdf: bytes, day: date | None) -> bytes:
    """CreationDate and ModDate set to `day` at 00:00 UTC (1970-01-01 without one). Only where
    the new text has the old one's length: the cross-reference table holds byte offsets."""
    stamp = f"D:{(day or date(1970, 1, 1)):%Y%m%d}000000+00'00'".encode()

    def replace(match: re.Match) -> bytes:
        new = b"/" + match.group(1) + b" (" + stamp + b")"
        return new if len(new) == len(match.group(0)) else match.group(0)
    return PDF_DATE.sub(replace, pdf)


NODE_ID = re.compile(rb"\(node(\d+)\)")


def number_nodes(pdf: bytes) -> bytes:
    """The structure ids numbered 1, 2, ... in the order of the DOM's, each at its old width (the
    n-th smallest of distinct positive numbers is at least n: it fits), so the offsets hold."""
    order = {n: i for i, n in enumerate(sorted({int(m) for m in NODE_ID.findall(pdf)}), start=1)}
    numbered = NODE_ID.sub(lambda m: b"(node%0*d)" % (len(m.group(1)), order[int(m.group(1))]), pdf)
    return numbered if len(numbered) == len(pdf) else pdf


class Browser:
    """One headless Chromium and one tab, spoken to over the DevTools protocol on a pipe."""

    def __init__(self, chromium: str):
        self.chromium = chromium

    def __enter__(self) -> Self:
        self.process = None
        self.profile = tempfile.TemporaryDirectory(prefix="tally-chromium-", ignore_cleanup_errors=True)
        self.log = open(Path(self.profile.name) / "chromium.log", "wb")  # closed in __exit__
        cmd_read, self.cmd = os.pipe()
        self.out, out_write = os.pipe()
        # above 4 so that moving them onto 3 and 4 overwrites neither
        child = [fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10) for fd in (cmd_read, out_write)]
        os.close(cmd_read)
        os.close(out_write)
        try:
            self.process = subprocess.Popen(
                [sys.executable, "-c", TRAMPOLINE, *map(str, child), self.chromium, "--headless", "--disable-gpu",
                 "--no-sandbox", "--no-first-run", "--disable-extensions", "--disable-background-networking",
                 f"--user-data-dir={self.profile.name}", "--remote-debugging-pipe", "about:blank"],
                pass_fds=child, stdin=subprocess.DEVNULL, stdout=self.log, stderr=self.log,
                start_new_session=True)  # its own process group: its renderers end with it
        finally:
            for fd in child:
                os.close(fd)
        self.buffer, self.backlog, self.last_id = b"", [], 0
        try:
            target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
            self.session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
            self.send("Page.enable", session=self.session)
            self.send("Page.setLifecycleEventsEnabled", {"enabled": True}, session=self.session)
            # the pages carry no scripts; a page that did would not run them
            self.send("Emulation.setScriptExecutionDisabled", {"value": True}, session=self.session)
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def print_to_pdf(self, url: str) -> bytes:
        navigated = self.send("Page.navigate", {"url": url}, session=self.session)
        if navigated.get("errorText"):
            raise PdfError(f"Chromium could not open {url}: {navigated['errorText']}")
        # the load of this navigation, not a late event of the page before
        self.wait(lambda m: m.get("method") == "Page.lifecycleEvent" and m["params"]["name"] == "load"
                  and m["params"]["loaderId"] == navigated.get("loaderId"), url)
        self.backlog.clear()
        printed = self.send("Page.printToPDF", {"preferCSSPageSize": True, "displayHeaderFooter": False},
                            session=self.session)
        return base64.b64decode(printed["data"])

    def send(self, method: str, params: dict | None = None, session: str | None = None) -> dict:
        self.last_id += 1
        message: dict = {"id": self.last_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        try:
            os.write(self.cmd, json.dumps(message).encode() + b"\0")
        except BrokenPipeError:
            raise PdfError(f"Chromium ended before {method}{self.tail()}") from None
        answer = self.wait(lambda m, n=self.last_id: m.get("id") == n, method)
        if "error" in answer:
            raise PdfError(f"Chromium refused {method}: {answer['error'].get('message')}")
        return answer["result"]

    def wait(self, wanted, what: str) -> dict:
        """The first message `wanted` accepts; the others are kept (an event may come before the
        answer of the command that caused it)."""
        for i, message in enumerate(self.backlog):
            if wanted(message):
                return self.backlog.pop(i)
        deadline = time.monotonic() + TIMEOUT
        while True:
            while b"\0" in self.buffer:
                raw, self.buffer = self.buffer.split(b"\0", 1)
                message = json.loads(raw)
                if wanted(message):
                    return message
                self.backlog.append(message)
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self.out], [], [], left)[0]:
                raise PdfError(f"Chromium did not answer {what} within {TIMEOUT} s{self.tail()}")
            chunk = os.read(self.out, 1 << 20)
            if not chunk:
                raise PdfError(f"Chromium ended during {what}{self.tail()}")
            self.buffer += chunk

    def tail(self) -> str:
        self.log.flush()
        lines = (Path(self.profile.name) / "chromium.log").read_text(errors="replace").splitlines()
        lines = [line for line in lines if "dbus" not in line]  # containers have no D-Bus: noise
        return (": " + " | ".join(lines[-3:])) if lines else ""

    def __exit__(self, *exc) -> None:
        try:
            if self.process is not None and self.process.poll() is None:
                try:
                    os.write(self.cmd, json.dumps({"id": 0, "method": "Browser.close"}).encode() + b"\0")
                    self.process.wait(timeout=10)
                except (OSError, subprocess.TimeoutExpired):
                    os.killpg(self.process.pid, signal.SIGKILL)
                    self.process.wait()
        finally:
            os.close(self.cmd)
            os.close(self.out)
            self.log.close()
            self.profile.cleanup()
