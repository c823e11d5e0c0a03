"""A report opens in one click from its run's page in the Prefect UI, in a real (headless) Chromium.

Browsers refuse `file://` links on an `http://` page, so the project's server serves the reports
folder over HTTP and the artifact links there. This test starts a project server of its own (own
home, free ports), runs a notebook through `airnub notebook --report-mode`, signs in to the UI with
the project's credential as a user does, opens the flow run's page, its Artifacts tab, the artifact,
and clicks the report link. Skipped only when Chromium is missing (`apt-get install -y chromium`;
`.ci/run` installs it).
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

from airnub.testing.browser import sign_in
from airnub.testing.helpers import RECORD, airnub, write_notebook

pytestmark = pytest.mark.integration

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"]
SCREENSHOT = os.environ.get("AIRNUB_REPORT_SCREENSHOT")  # a path: keep a picture of the opened report there


@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (apt-get install -y chromium)")
def test_report_opens_in_one_click_from_the_run_page(stopped_server, tmp_path):
    from playwright.sync_api import sync_playwright

    notebook = write_notebook(tmp_path / "nbs" / "harvest.ipynb", "title: str = 'Harvest review'\nn: int = 3",
                              f"{RECORD}\nrecord('double', 2 * n)", "print('rows checked:', n)")
    done = airnub("notebook", str(notebook), "--report-mode", "-p", "title", "Harvest review 2026", env=stopped_server)
    assert done.returncode == 0, done.stdout + done.stderr
    run_page = re.search(r"http://127\.0\.0\.1:\d+/runs/flow-run/[0-9a-f-]+", done.stdout).group(0)
    report = Path(re.search(r"^report: (.+)$", done.stdout, re.MULTILINE).group(1))
    reports_port = stopped_server["AIRNUB_REPORTS_PORT"]
    token = (Path(stopped_server["AIRNUB_SERVER_HOME"]) / "reports-token").read_text().strip()

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            sign_in(page, run_page.split("/runs/")[0], Path(stopped_server["AIRNUB_SERVER_HOME"]) / "api-auth")
            page.goto(run_page)
            page.get_by_text("Artifacts", exact=True).click()
            page.get_by_role("link", name=re.compile("notebook-harvest")).click()  # the artifact's card
            link = page.get_by_role("link", name="harvest.html", exact=True)
            href = link.get_attribute("href")
            relative = report.relative_to(tmp_path / "reports").as_posix()
            assert href == f"http://127.0.0.1:{reports_port}/{token}/{relative}", href
            with page.context.expect_page(timeout=5000) if link.get_attribute("target") == "_blank" else _same(page) \
                    as opened:
                link.click()
            shown = opened.value
            shown.wait_for_load_state()
            assert shown.url == href and shown.title() == "Harvest review 2026"
            assert shown.get_by_role("heading", level=1).first.inner_text().strip().rstrip("¶") == "Harvest review 2026"
            assert "rows checked: 3" in shown.content() and "record(" not in shown.content(), "report mode: no code"
            if SCREENSHOT:
                shown.screenshot(path=SCREENSHOT)
        finally:
            browser.close()


class _same:
    """A stand-in for `expect_page` when the link opens in the same tab: `.value` is that page."""

    def __init__(self, page):
        self.value = page

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.value.wait_for_load_state()
        return False
