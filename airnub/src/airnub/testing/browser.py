"""The built docs site for browser tests: `make docs` when its sources are newer, served on a free loopback port."""

from __future__ import annotations

import fcntl
import functools
import hashlib
import os
import re
import shutil
import subprocess
import tempfile
import threading
from contextlib import contextmanager
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml

from airnub.testing.helpers import PROJECT_ROOT, free_port

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"]
SCREENSHOT = os.environ.get("AIRNUB_DOCS_SCREENSHOT")  # a path: keep a picture of the notebook page there
SITE = PROJECT_ROOT / yaml.safe_load((PROJECT_ROOT / "mkdocs.yml").read_text())["site_dir"]
# What the site is built from (the package is exported from the notebooks: their dates say when it changed).
SOURCES = [PROJECT_ROOT / "mkdocs.yml", *(PROJECT_ROOT / "docs").rglob("*"), *(PROJECT_ROOT / "nbs").rglob("*.ipynb")]


def _built_site() -> Path:
    """site/, built by `make docs` unless a build newer than all its sources is there (one build at a time: the
    browser tests of several test processes may ask at once)."""
    index = SITE / "index.html"
    lock = Path(tempfile.gettempdir()) / f"docs-site-{hashlib.sha256(bytes(SITE)).hexdigest()[:12]}.lock"
    with open(lock, "a") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
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


@contextmanager
def browser_page():
    """A page of a headless Chromium (1400 x 1000), closed with its browser when the block ends."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        try:
            yield browser.new_page(viewport={"width": 1400, "height": 1000})
        finally:
            browser.close()


def sign_in(page, ui_url: str, credential: Path) -> None:
    """Sign in to the UI as docs/team-path.md tells a user: paste `.prefect/api-auth` into the login page's field."""
    page.goto(ui_url)
    page.wait_for_url(re.compile("/login"), timeout=60000)  # the UI asks before it shows anything
    page.get_by_placeholder("admin:pass").fill(credential.read_text().strip())
    page.get_by_role("button", name="Login").click()
    page.wait_for_url(lambda url: "/login" not in url, timeout=60000)
