"""`dagster dev` for the finance tests: started over a world's DAGSTER_HOME, driven through the
UI's own GraphQL calls, read and photographed in the system Chromium with Playwright."""
from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from tests.helpers import REPO

REPOSITORY = {"repositoryName": "__repository__", "repositoryLocationName": "orchestration.definitions"}
CHROMIUM_NAMES = ("chromium", "chromium-browser")

LAUNCH_BACKFILL = """
mutation($params: LaunchBackfillParams!) {
  launchPartitionBackfill(backfillParams: $params) {
    __typename
    ... on LaunchBackfillSuccess { backfillId }
    ... on PythonError { message }
    ... on InvalidSubsetError { message }
    ... on UnauthorizedError { message }
  }
}"""
BACKFILL_STATUS = """
query($id: String!) {
  partitionBackfillOrError(backfillId: $id) { ... on PartitionBackfill { status } ... on PythonError { message } }
}"""
LATEST_BACKFILL = """
{ partitionBackfillsOrError(limit: 1) { ... on PartitionBackfills { results { id partitionNames } } } }"""
LATEST_RUN = """
query($job: String!) { runsOrError(filter: {pipelineName: $job}, limit: 1) {
  ... on Runs { results { runId status tags { key value } } } } }"""
LOCATION_LOADED = """
{ repositoriesOrError { ... on RepositoryConnection { nodes { name } } ... on PythonError { message } } }"""


def chromium() -> str | None:
    return next((shutil.which(n) for n in CHROMIUM_NAMES if shutil.which(n)), None)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class DagsterUI:
    process: subprocess.Popen
    url: str
    log: Path

    @classmethod
    def start(cls, env: dict, log: Path, timeout: float = 300) -> DagsterUI:
        port = _free_port()
        dagster = str(Path(sys.executable).with_name("dagster"))
        with log.open("w") as out:
            process = subprocess.Popen([dagster, "dev", "-m", "orchestration.definitions", "-h", "127.0.0.1",
                                        "-p", str(port)], stdout=out, stderr=subprocess.STDOUT, env=env,
                                       cwd=REPO, start_new_session=True)
        ui = cls(process, f"http://127.0.0.1:{port}", log)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert process.poll() is None, log.read_text()[-4000:]
            try:
                if ui.graphql(LOCATION_LOADED)["repositoriesOrError"].get("nodes"):
                    return ui
            except OSError:
                pass
            time.sleep(1)
        ui.stop()
        raise AssertionError("dagster dev did not serve the definitions in time\n" + log.read_text()[-4000:])

    def graphql(self, query: str, variables: dict | None = None) -> dict:
        request = urllib.request.Request(f"{self.url}/graphql", headers={"Content-Type": "application/json"},
                                         data=json.dumps({"query": query, "variables": variables or {}}).encode())
        with urllib.request.urlopen(request, timeout=60) as response:
            body = json.load(response)
        assert "errors" not in body, body
        return body["data"]

    def job_url(self, job: str) -> str:
        return f"{self.url}/locations/{REPOSITORY['repositoryLocationName']}/jobs/{job}/partitions"

    def latest_backfill(self) -> dict | None:
        found = self.graphql(LATEST_BACKFILL)["partitionBackfillsOrError"]["results"]
        return found[0] if found else None

    def latest_run(self, job: str) -> dict | None:
        found = self.graphql(LATEST_RUN, {"job": job})["runsOrError"]["results"]
        return found[0] if found else None

    def wait_for_run(self, job: str, run_id: str, timeout: float = 600) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            run = self.latest_run(job)
            if run["runId"] == run_id and run["status"] not in ("QUEUED", "NOT_STARTED", "STARTING", "STARTED"):
                assert run["status"] == "SUCCESS", (run, self.log.read_text()[-4000:])
                return run
            time.sleep(2)
        raise AssertionError(f"run {run_id} of {job} not done in {timeout} s\n" + self.log.read_text()[-4000:])

    def wait_for_backfill(self, backfill_id: str, timeout: float = 900) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            status = self.graphql(BACKFILL_STATUS, {"id": backfill_id})["partitionBackfillOrError"]
            if status.get("status") not in ("REQUESTED", "CANCELING", "FAILING"):
                assert status.get("status") == "COMPLETED_SUCCESS", (status, self.log.read_text()[-4000:])
                return
            assert self.process.poll() is None, self.log.read_text()[-4000:]
            time.sleep(2)
        raise AssertionError(f"backfill {backfill_id} not done in {timeout} s\n" + self.log.read_text()[-4000:])

    def stop(self) -> None:
        # the test has read all it needs: a few seconds for a clean exit, then the whole group is
        # killed (`dagster dev` waits up to a minute on its daemon's threads otherwise)
        for sig, grace in ((signal.SIGTERM, 10), (signal.SIGKILL, 60)):
            try:
                os.killpg(self.process.pid, sig)
            except ProcessLookupError:
                return
            try:
                self.process.wait(timeout=grace)
                if sig == signal.SIGTERM:  # the daemon's children (code server, run worker) too
                    continue
            except subprocess.TimeoutExpired:
                continue


class Browser:
    """The system Chromium through Playwright (no browser download): pages of the Dagster UI."""

    def __init__(self, executable: str):
        from playwright.sync_api import sync_playwright

        self._playwright = sync_playwright().start()
        self._browser = self._playwright.chromium.launch(executable_path=executable, args=["--no-sandbox"])
        self.page = self._browser.new_page(viewport={"width": 1400, "height": 900})
        self._greeted = False

    def open(self, url: str, wait_for_text: str):
        self.page.goto(url)
        wanted = self.page.get_by_text(wait_for_text).first
        if not self._greeted:
            # a new Dagster instance greets its first visitor with a community dialog: skip it
            skip = self.page.get_by_role("button", name="Skip")
            wanted.or_(skip).first.wait_for(timeout=60_000)
            self.page.wait_for_timeout(2_000)  # the dialog comes a moment after the page
            if skip.is_visible():
                skip.click()
                skip.wait_for(state="hidden", timeout=30_000)
            self._greeted = True
        wanted.wait_for(timeout=60_000)
        return self.page

    def launch(self, ui: DagsterUI, job: str, months: str, shot: Path | None = None) -> dict:
        """As finance does it: Jobs → `job` → Partitions → Materialize… → the months typed as
        Dagster shows them (`2026-10` or `[2026-09...2026-11]`) → Launch (a backfill for several
        months, one run for one). Returns {"backfill": id} or {"run": id}, what the click made."""
        before = (ui.latest_backfill(), ui.latest_run(job))
        self.open(ui.job_url(job), "Backfill history")
        self.page.get_by_role("button", name="Materialize…").first.click()
        dialog = self.page.get_by_role("dialog").filter(has_text="Partition selection")
        box = dialog.get_by_placeholder("ex: ", exact=False)
        box.fill(months)
        box.press("Enter")
        launch = dialog.get_by_role("button", name=re.compile(r"^Launch (backfill|1 run)$"))
        launch.wait_for()
        if shot is not None:
            self.screenshot(shot)
        launch.click()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            backfill, run = ui.latest_backfill(), ui.latest_run(job)
            if backfill is not None and backfill != before[0]:
                return {"backfill": backfill["id"], "partitions": backfill["partitionNames"]}
            if run is not None and run != before[1] and "dagster/backfill" not in {t["key"] for t in run["tags"]}:
                return {"run": run["runId"], "partitions": [t["value"] for t in run["tags"]
                                                             if t["key"] == "dagster/partition"]}
            time.sleep(1)
        raise AssertionError(f"nothing of {job} was launched from the UI")

    def metadata_row(self, label: str) -> str:
        """The value beside `label` in the page's metadata table."""
        cells = self.page.locator("tr", has=self.page.get_by_text(label, exact=True)).first.locator("td")
        return cells.nth(1).inner_text().strip()

    def screenshot(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(path))

    def close(self) -> None:
        self._browser.close()
        self._playwright.stop()
