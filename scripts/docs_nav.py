"""MkDocs hook: a nav section per folder of executed notebooks, so a new notebook is a page without editing the nav."""

from __future__ import annotations

from pathlib import Path

# a nav section per folder of notebooks; any other folder is listed under its own name
SECTIONS = {"data_science": "Data science notebooks", "core": "Core notebooks", "engine": "Engine notebooks"}


def on_config(config):
    """Append a section for each folder of notebooks in docs_dir, notebooks in their numbered order."""
    docs = Path(config.docs_dir)
    folders = sorted({p.parent for p in docs.rglob("*.ipynb") if p.parent != docs},
                     key=lambda f: (list(SECTIONS).index(f.name) if f.name in SECTIONS else len(SECTIONS), f.name))
    for folder in folders:
        pages = [p.relative_to(docs).as_posix() for p in sorted(folder.glob("*.ipynb"))]
        config.nav.append({SECTIONS.get(folder.name, folder.name): pages})
    return config
