"""The demo's notebook pages in a real (headless) Chromium: a DataFrame its example shows, and a figure."""

from __future__ import annotations

import pytest

from airnub.testing.browser import CHROMIUM, SCREENSHOT, _heading, browser_page

pytestmark = pytest.mark.integration


@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (apt-get install -y chromium)")
def test_the_demos_notebook_pages_show_a_table_and_a_figure(site_url):
    from playwright.sync_api import expect

    with browser_page() as page:
        page.goto(f"{site_url}/")
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
