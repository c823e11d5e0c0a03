"""MkDocs hook: the nav from what exists. A nav section per folder of executed notebooks, so a new notebook is a
page without editing the nav, and a "Pipelines" section of the departments' pipeline pictures; a guide mkdocs.yml
lists that is not there (a project made without the demo has none of its guides) is left out of the nav, not a
broken link."""

from __future__ import annotations

from pathlib import Path

PIPELINES = "pipelines"  # the pages airnub/src/airnub/docs/build.py draws, one per department
# a nav section per folder of notebooks; any other folder is listed under its own name
SECTIONS = {"data_science": "Data science notebooks", "core": "Core notebooks", "engine": "Engine notebooks"}


def existing(nav: list, docs: Path) -> list:
    """`nav` without the pages that are not in `docs`, and without the sections left empty."""
    kept = []
    for entry in nav:
        title, value = next(iter(entry.items())) if isinstance(entry, dict) else (None, entry)
        if isinstance(value, list):
            value = existing(value, docs)
            if not value:
                continue
        elif "://" not in value and not (docs / value).exists():
            continue
        kept.append({title: value} if title is not None else value)
    return kept


def mermaid_fences(config) -> None:
    """```mermaid fences become `<pre class="mermaid">`, which MkDocs Material draws with the site's mermaid.js (the
    setting is made here: in mkdocs.yml it needs a `!!python/name` tag that a plain YAML reader refuses)."""
    from pymdownx.superfences import fence_code_format

    fences = config.mdx_configs.setdefault("pymdownx.superfences", {}).setdefault("custom_fences", [])
    if not any(fence.get("name") == "mermaid" for fence in fences):
        fences.append({"name": "mermaid", "class": "mermaid", "format": fence_code_format})


def on_config(config):
    """Keep the pages of the nav that exist; a section for the pipeline pictures and for each folder of notebooks."""
    docs = Path(config.docs_dir)
    mermaid_fences(config)
    config.nav = existing(config.nav, docs)
    if pipelines := sorted((docs / PIPELINES).glob("*.md")):
        config.nav.append({"Pipelines": [p.relative_to(docs).as_posix() for p in pipelines]})
    folders = sorted({p.parent for p in docs.rglob("*.ipynb") if p.parent != docs},
                     key=lambda f: (list(SECTIONS).index(f.name) if f.name in SECTIONS else len(SECTIONS), f.name))
    for folder in folders:
        pages = [p.relative_to(docs).as_posix() for p in sorted(folder.glob("*.ipynb"))]
        config.nav.append({SECTIONS.get(folder.name, folder.name): pages})
    return config
