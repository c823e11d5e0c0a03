"""MkDocs hook: the nav from what exists. A nav section per folder of executed notebooks, so a new notebook is a
page without editing the nav; a guide mkdocs.yml lists that is not there (a project made without the demo has
none of its guides) is left out of the nav, not a broken link."""

from __future__ import annotations

from pathlib import Path

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


def on_config(config):
    """Keep the pages of the nav that exist; append a section for each folder of notebooks in docs_dir."""
    docs = Path(config.docs_dir)
    config.nav = existing(config.nav, docs)
    folders = sorted({p.parent for p in docs.rglob("*.ipynb") if p.parent != docs},
                     key=lambda f: (list(SECTIONS).index(f.name) if f.name in SECTIONS else len(SECTIONS), f.name))
    for folder in folders:
        pages = [p.relative_to(docs).as_posix() for p in sorted(folder.glob("*.ipynb"))]
        config.nav.append({SECTIONS.get(folder.name, folder.name): pages})
    return config
