"""Clean notebooks the way git stores them: outputs cleared, then nbdev-clean.

The pre-commit hook (.pre-commit-config.yaml) runs this on the notebooks a commit stages, so that
opening, running and saving a notebook in JupyterLab changes nothing in git. nbdev-clean applies
`[tool.nbdev]` of pyproject.toml (execution counts, kernelspec, metadata; papermill's `tags`
stay); it keeps outputs, which nbval refuses in stored notebooks, so they are cleared first, and
the empty `tags` lists papermill adds go too. Usage: python -m airnub.notebook_files.clean NOTEBOOK...
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from nbdev.clean import nbdev_clean


def clear_outputs(notebook: Path) -> None:
    """Empty the outputs of `notebook`'s code cells and drop empty `tags` lists (nbdev-clean formats it after)."""
    node = json.loads(notebook.read_text(encoding="utf-8"))
    for cell in node.get("cells", []):
        if cell.get("cell_type") == "code":
            cell["outputs"] = []
        if cell.get("metadata", {}).get("tags") == []:
            del cell["metadata"]["tags"]
    notebook.write_text(json.dumps(node), encoding="utf-8")


if __name__ == "__main__":
    for name in sys.argv[1:]:
        clear_outputs(Path(name))
        nbdev_clean.__wrapped__(fname=name)  # the function itself, not its command-line parser
