"""The docs site's sources: a broken example fails the build, and the README's topics are pages of the site.

airnub/src/airnub/docs/build.py executes each package notebook once for the site (`make docs`); these tests run
it on notebooks of their own, in a folder of their own. The browser test of the built site is
tests/integration/test_docs_in_browser.py.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import nbformat
import pytest
import yaml

from airnub.docs import build as build_docs
from airnub.docs import nav as docs_nav
from airnub.testing.helpers import PROJECT_ROOT, write_notebook

README = PROJECT_ROOT / "README.md"
GUIDES = PROJECT_ROOT / "docs"


def _nav_pages(nav) -> list[str]:
    pages = []
    for entry in nav:
        value = next(iter(entry.values())) if isinstance(entry, dict) else entry
        pages += _nav_pages(value) if isinstance(value, list) else [value]
    return pages


def test_notebooks_are_executed_for_readers_and_a_broken_example_fails_the_build(notebooks_dir, tmp_path):
    good = write_notebook(notebooks_dir / "core" / "00_good.ipynb", None, "#| default_exp core.good",
                          "#| export\ndef double(x: int) -> int:\n    return 2 * x", "double(21)",
                          "#| eval: false\nraise SystemExit('an entry point: never run in the kernel')")
    node = nbformat.read(good, as_version=4)
    node.cells.insert(0, nbformat.v4.new_markdown_cell("# Good\n\n> Doubles."))
    nbformat.write(node, good)
    write_notebook(notebooks_dir / "core" / "10_broken.ipynb", None, "rows = 3", "wine.head(rows)")
    write_notebook(notebooks_dir / "reports" / "report.ipynb", None, "raise ValueError('reports are not pages')")

    failures = build_docs.build(tmp_path / "site-sources", workers=2, folders=[notebooks_dir])

    assert failures == ["nbs/core/10_broken.ipynb: cell 2 raised NameError: name 'wine' is not defined\n"
                        "    wine.head(rows)"]
    page = nbformat.read(tmp_path / "site-sources" / "core" / "00_good.ipynb", as_version=4)
    code = [cell for cell in page.cells if cell.cell_type == "code"]
    assert [cell.source for cell in code][:2] == ["def double(x: int) -> int:\n    return 2 * x", "double(21)"]
    assert code[1].outputs[0]["data"]["text/plain"] == "42", "executed, with its output"
    assert code[2].outputs == [] and "#|" not in code[2].source, "the entry point is shown, not run"
    assert "`airnub_prefect_starter.core.good`" in page.cells[1].source, "the page says which module it is"
    assert not (tmp_path / "site-sources" / "reports").exists()
    assert (tmp_path / "site-sources" / "settings.md").resolve() == GUIDES / "settings.md"


def test_every_guide_is_in_the_nav_and_every_topic_the_readme_leaves_out_is_a_guide():
    config = yaml.safe_load((PROJECT_ROOT / "mkdocs.yml").read_text())
    nav = _nav_pages(docs_nav.existing(config["nav"], GUIDES))  # the nav the site gets: pages that exist
    guides = sorted(path.relative_to(GUIDES).as_posix() for path in GUIDES.rglob("*.md"))
    assert sorted(page for page in nav if page.endswith(".md")) == guides
    linked = re.findall(r"\]\(docs/([^)#]+)", README.read_text())
    assert set(linked) == set(guides), "the README links every guide, and only pages that exist"
    # the template says how to start a project from it; a project made from it, how to update
    assert re.search(r"(?m)^## (Start your own project|Updates from the template)$", README.read_text())


def test_the_nav_leaves_out_a_page_that_is_not_there_and_a_section_left_empty(tmp_path):
    """A project without the demo has none of its guides: mkdocs.yml's nav entries for them are dropped."""
    (tmp_path / "settings.md").write_text("# Settings\n")
    nav = [{"Home": "index.ipynb"}, {"Guides": [{"Gone": "gone.md"}]},
           {"Reference": [{"Settings": "settings.md"}, {"Benchmarks": "benchmarks.md"}]}]
    assert docs_nav.existing(nav, tmp_path) == [{"Reference": [{"Settings": "settings.md"}]}]


@pytest.mark.parametrize("document", [README, *sorted(GUIDES.glob("*.md"))], ids=lambda path: path.name)
def test_no_table_row_twice(document):
    """A fact has one row: within a page, and across the README and the guides."""
    def rows(path: Path) -> list[str]:
        lines = path.read_text().splitlines()
        return [line.strip() for before, line in zip(["", *lines], lines, strict=False)
                if line.startswith("|") and before.startswith("|") and not re.fullmatch(r"\|[-|: ]+\|", line.strip())]

    mine = rows(document)
    others = {row for path in [README, *GUIDES.glob("*.md")] if path != document for row in rows(path)}
    assert len(mine) == len(set(mine)), [row for row in mine if mine.count(row) > 1]
    assert not set(mine) & others
    if document.name == "settings.md":
        keys = [re.findall(r"`(\w+)`", row.split("|")[1]) for row in mine]
        assert sum(len(k) for k in keys) == len({key for k in keys for key in k}), "each setting in one row"


def test_each_department_is_a_page_with_its_pipeline_as_a_picture(project, tmp_path):
    """airnub.docs.build draws each department's pipeline (its stages, categories, steps) as a Mermaid page."""
    from airnub.orchestration.departments import STAGES, departments, stage_flow

    assert build_docs.pipeline_pages(tmp_path) == []
    pages = sorted(path.name for path in (tmp_path / "pipelines").glob("*.md"))
    assert pages == sorted(f"{department}.md" for department in departments())
    for department in departments():
        page = (tmp_path / "pipelines" / f"{department}.md").read_text()
        assert "```mermaid\nflowchart TB\n" in page
        assert page.count("subgraph ") == len(re.findall(r"^ *end$", page, re.M)), "every box is closed"
        for stage in STAGES:
            assert f'["{stage_flow(department, stage).name}"]' in page, f"the stage {stage} is a box of the picture"


def test_the_site_serves_its_own_mermaid_and_says_how_to_get_it_when_missing(tmp_path):
    script = tmp_path / "mermaid.min.js"
    assert build_docs.serve_mermaid(script, tmp_path / "site") == [
        f"{script}: no mermaid.js to draw the pipeline pictures with; `make setup` fetches it"]
    script.write_text("globalThis.mermaid = {};")
    assert build_docs.serve_mermaid(script, tmp_path / "site") == []
    assert (tmp_path / "site" / build_docs.MERMAID).read_text() == script.read_text()


def test_serving_the_docs_after_building_them_executes_no_notebook_again(tmp_path):
    """`make docs-serve` right after `make docs` serves what was built; an edited notebook is executed again."""
    project = tmp_path / "project"
    notebook = "airnub/nbs/engine/00_settings.ipynb"
    for name in ("Makefile", "pyproject.toml", "airnub/pyproject.toml", "settings.ini", "mkdocs.yml",
                 "airnub/src/airnub/docs/build.py", notebook):
        (project / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(PROJECT_ROOT / name, project / name)
    (project / ".venv").symlink_to(PROJECT_ROOT / ".venv")  # `make -n` prints what it would run, runs nothing

    def planned() -> str:
        done = subprocess.run(["make", "-n", "--no-print-directory", "docs-serve"], cwd=project, capture_output=True,
                              text=True, timeout=60)
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout

    assert "airnub.docs.build" in planned(), "never built: the notebooks are executed"
    built = project / build_docs.docs_dir(project) / ".executed"
    built.parent.mkdir()
    built.touch()  # what `make docs` leaves when it has executed them
    assert "airnub.docs.build" not in planned() and "mkdocs serve" in planned()
    later = built.stat().st_mtime + 10
    os.utime(project / notebook, (later, later))
    assert "airnub.docs.build" in planned(), "a notebook edited since: executed again"
