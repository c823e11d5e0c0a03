"""The docs site opens in a real (headless) Chromium: the home page, a notebook page, a guide.

`make docs` builds the site into site/ (`make test` builds it before pytest runs); this test uses
that build when it is newer than every source of the site, else runs `make docs` itself. It
serves the site on a free loopback port and checks what a reader sees: the headings, the
notebooks' executed outputs (the home page's paths, a DataFrame, a figure), a guide's table, and
the nav between them. Skipped only when Chromium is missing (`apt-get install -y chromium`;
`.ci/run` installs it).
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml
from helpers import PROJECT_ROOT, free_port

pytestmark = pytest.mark.integration

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"]
SCREENSHOT = os.environ.get("AIRNUB_DOCS_SCREENSHOT")  # a path: keep a picture of the notebook page there
SITE = PROJECT_ROOT / yaml.safe_load((PROJECT_ROOT / "mkdocs.yml").read_text())["site_dir"]
# What the site is built from (the package is exported from the notebooks: their dates say when it changed).
SOURCES = [PROJECT_ROOT / "mkdocs.yml", *(PROJECT_ROOT / "docs").rglob("*"), *(PROJECT_ROOT / "nbs").rglob("*.ipynb")]


def _built_site() -> Path:
    """site/, built by `make docs` unless a build newer than all its sources is there."""
    index = SITE / "index.html"
    if not index.exists() or index.stat().st_mtime < max(p.stat().st_mtime for p in SOURCES if p.is_file()):
        done = subprocess.run(["make", "--no-print-directory", "docs"], cwd=PROJECT_ROOT, capture_output=True,
                              text=True, timeout=1200)
        assert done.returncode == 0, done.stdout + done.stderr
    return SITE


@pytest.fixture
def site_url():
    """The built site, served over HTTP on a free loopback port until the test ends."""
    handler = functools.partial(_QuietHandler, directory=str(_built_site()))
    server = ThreadingHTTPServer(("127.0.0.1", free_port()), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def _heading(page, level: int, text: str):
    return page.get_by_role("heading", level=level, name=text).first


@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (apt-get install -y chromium)")
def test_docs_site_shows_notebooks_with_outputs_and_guides(site_url):
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            failed = []
            page.on("requestfailed", lambda request: failed.append(request.url))

            # the home page is nbs/index.ipynb, executed: the project's paths are its output
            page.goto(f"{site_url}/")
            expect(_heading(page, 1, "airnub-prefect-starter")).to_be_visible()
            expect(page.locator(".jp-OutputArea-output").first).to_contain_text("'data_root': 'data'")

            # a notebook of the package, from the nav: prose, exported code, and a DataFrame its example shows
            page.get_by_role("link", name="Dataset processing").first.click()
            page.wait_for_url(f"{site_url}/data_science/10_dataset_processing/")
            expect(_heading(page, 1, "Dataset processing")).to_be_visible()
            expect(_heading(page, 2, "Cleaning")).to_be_visible()
            expect(page.locator("pre", has_text="def clean_dataset(")).to_be_visible()
            table = page.locator(".jp-OutputArea-output table.dataframe").first
            expect(table).to_be_visible()
            expect(table.locator("thead")).to_contain_text("alcohol")
            assert table.locator("tbody tr").count() == 3, "wine.head(3)"
            if SCREENSHOT:
                table.scroll_into_view_if_needed()
                page.screenshot(path=SCREENSHOT)

            # a figure: the plots notebook's confusion matrix, an image the browser decoded
            page.goto(f"{site_url}/data_science/50_plots/")
            figure = page.locator(".jp-OutputArea-output img").first
            expect(figure).to_be_visible()
            assert figure.evaluate("image => image.complete && image.naturalWidth") > 100

            # a guide, from the nav: the settings table, one row per key
            page.get_by_role("link", name="Settings", exact=True).first.click()
            page.wait_for_url(f"{site_url}/settings/")
            expect(_heading(page, 1, "Settings")).to_be_visible()
            rows = page.locator("article table tbody tr")
            keys = [rows.nth(i).locator("td").first.inner_text() for i in range(rows.count())]
            assert "kernel_name" in keys and len(keys) == len(set(keys)), keys

            assert not [url for url in failed if url.startswith(site_url)], failed  # the site's own files all load
        finally:
            browser.close()


def test_site_needs_no_network_to_read():
    """No page loads a script, style or font from another host: the site reads offline."""
    site = _built_site()
    foreign = []
    for html in site.rglob("*.html"):
        text = html.read_text(encoding="utf-8")
        foreign += [f"{html.relative_to(site)}: {tag}" for tag in ("fonts.googleapis.com", "<script src=\"http",
                                                                   "<link rel=\"stylesheet\" href=\"http")
                    if tag in text]
    assert not foreign, foreign
