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


# MkDocs Material draws a diagram into a closed shadow root; opened here, so the test can read the SVG it holds.
OPEN_SHADOW_ROOTS = ("const attach = Element.prototype.attachShadow;"
                     "Element.prototype.attachShadow = function (options) {"
                     "  return attach.call(this, {...options, mode: 'open'}); };")


@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (apt-get install -y chromium)")
def test_the_demos_pipeline_page_draws_its_stages_and_files_with_the_network_off(site_url):
    from playwright.sync_api import expect

    with browser_page() as page:
        elsewhere = []  # any request that leaves the site (a CDN's mermaid.js) is refused, and noted

        def only_the_site(route):
            if route.request.url.startswith(site_url):
                return route.continue_()
            elsewhere.append(route.request.url)
            return route.abort()

        page.route("**/*", only_the_site)
        page.add_init_script(OPEN_SHADOW_ROOTS)
        page.goto(f"{site_url}/")
        page.get_by_role("link", name="Pipeline: Demo").first.click()  # the nav's Pipelines section
        page.wait_for_url(f"{site_url}/pipelines/demo/")
        picture = page.locator("div.mermaid svg").first
        expect(picture).to_be_visible(timeout=30_000)
        for name in ("ingestion-dept-demo", "processing-dept-demo", "analysis-dept-demo",  # the stages
                     "features-dept-demo", "train-model", "run-notebook-model_evaluation",  # a category, steps
                     "data/processed/wine_features.parquet", "nbs/reports/model_evaluation.ipynb"):  # files read
            expect(picture).to_contain_text(name)
        assert picture.evaluate("svg => svg.getBoundingClientRect().width") > 400, "drawn, not an empty box"
        assert elsewhere == [], f"the page fetched from outside the site: {elsewhere}"
        if SCREENSHOT:
            picture.scroll_into_view_if_needed()
            page.screenshot(path=SCREENSHOT.replace(".png", "-pipeline.png"))
