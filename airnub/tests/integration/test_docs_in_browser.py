"""The docs site opens in a real (headless) Chromium: the home page, a notebook page, a guide.

`make docs` builds the site into site/ (`make test` builds it before pytest runs); this test uses
that build when it is newer than every source of the site, else runs `make docs` itself. It
serves the site on a free loopback port and checks what a reader sees: the headings, the home
page's executed output (the project's paths), a notebook's code, a guide's table, and the nav
between them (the demo's pages, with a DataFrame and a figure: tests/demo/test_docs_pages_in_browser.py).
Skipped only when Chromium is missing (`apt-get install -y chromium`; `.ci/run` installs it).
"""

from __future__ import annotations

import nbformat
import pytest

from airnub.testing.browser import CHROMIUM, SCREENSHOT, _built_site, _heading, browser_page
from airnub.testing.helpers import PROJECT_ROOT

pytestmark = pytest.mark.integration


@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (apt-get install -y chromium)")
def test_docs_site_shows_notebooks_with_outputs_and_guides(site_url):
    from playwright.sync_api import expect

    with browser_page() as page:
        failed = []
        page.on("requestfailed", lambda request: failed.append(request.url))

        # the home page is nbs/index.ipynb, executed: the project's paths are its output
        page.goto(f"{site_url}/")
        title = nbformat.read(PROJECT_ROOT / "nbs" / "index.ipynb", as_version=4).cells[0].source.splitlines()[0]
        expect(_heading(page, 1, title.removeprefix("# "))).to_be_visible()
        expect(page.locator(".jp-OutputArea-output").first).to_contain_text("'data_root': 'data'")

        # a notebook of the package, from the nav: prose and the exported code
        page.get_by_role("link", name="Runtime settings").first.click()
        page.wait_for_url(f"{site_url}/engine/00_settings/")
        expect(_heading(page, 1, "Runtime settings")).to_be_visible()
        expect(_heading(page, 2, "Reading settings.ini")).to_be_visible()
        expect(page.locator("pre", has_text="def load_settings(").first).to_be_visible()
        if SCREENSHOT:
            page.screenshot(path=SCREENSHOT)

        # a guide, from the nav: the settings table, one row per key
        page.get_by_role("link", name="Settings", exact=True).first.click()
        page.wait_for_url(f"{site_url}/settings/")
        expect(_heading(page, 1, "Settings")).to_be_visible()
        rows = page.locator("article table tbody tr")
        keys = [rows.nth(i).locator("td").first.inner_text() for i in range(rows.count())]
        assert "kernel_name" in keys and len(keys) == len(set(keys)), keys

        assert not [url for url in failed if url.startswith(site_url)], failed  # the site's own files all load


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
