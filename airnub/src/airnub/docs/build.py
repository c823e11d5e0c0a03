"""Stage the docs site's sources: every package notebook executed once, the guides beside them.

`make docs` runs this, then `mkdocs build`. Each notebook under the notebooks folder (but
`reports/`, parameterised notebooks that papermill runs) is copied without outputs and executed
in the project kernel, as in JupyterLab (from its own folder, cells tagged `nbval-skip` or marked
`#| eval: false` left out), a few side by side; the executed copies go to mkdocs.yml's docs_dir,
where mkdocs-jupyter renders them as they are. Each department's pipeline becomes a page of pictures
(`pipelines/<id>.md`, drawn by `airnub.orchestration.plan_picture`), and mermaid.js (`--mermaid`, fetched by
`make setup`) is served from the site, so the pictures render with no network. A cell that raises
fails the build with the notebook and the cell named: a broken example is a broken page. The guides in
docs/ are linked into the docs_dir, so `mkdocs serve` shows edits to them at once. What the kernels print on their own
(not a cell's output) goes to `.logs/` there, a log per notebook.
Usage: python -m airnub.docs.build [--workers N] [--mermaid PATH]
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import nbformat
import yaml
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError
from traitlets.config import Config

from airnub.engine.settings import load_settings
from airnub.project import nbdev_folders

SKIPPED_FOLDERS = {"reports"}  # parameterised notebooks: they need a trained model and papermill's parameters
GUIDES = "docs"  # the site's Markdown pages, relative to the project
LOGS = ".logs"  # in the docs_dir: mkdocs leaves out names starting with a dot
PIPELINES = "pipelines"  # in the docs_dir: a page per department (airnub/src/airnub/docs/nav.py lists them in the nav)
MERMAID = "javascripts/mermaid.min.js"  # in the docs_dir: mkdocs.yml's extra_javascript loads it on every page


def docs_dir(root: Path) -> Path:
    """Where mkdocs reads the site's sources: `docs_dir` of the project's mkdocs.yml."""
    return root / yaml.safe_load((root / "mkdocs.yml").read_text())["docs_dir"]


@contextmanager
def stderr_to(log: Path):
    """Send this process's standard error to `log` until the block ends (its kernels' goes there by `kernel_log`)."""
    log.parent.mkdir(parents=True, exist_ok=True)
    saved = os.dup(2)
    with open(log, "ab") as target:
        os.dup2(target.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)


def package_notebooks(notebooks: Path) -> list[Path]:
    """The notebooks of the package under `notebooks`, in the order nbdev numbers them."""
    found = []
    for notebook in sorted(notebooks.rglob("*.ipynb")):
        relative = notebook.relative_to(notebooks)
        if relative.parts[0] in SKIPPED_FOLDERS or any(p.startswith((".", "_")) for p in relative.parts):
            continue
        found.append(notebook)
    return found


def _directives(cell) -> list[str]:
    return [line for line in cell.source.splitlines() if line.startswith("#|")]


def _skipped(cell) -> bool:
    """A cell the kernel must not run: the notebook's own entry point (`if __name__ == "__main__"`)."""
    return "nbval-skip" in cell.metadata.get("tags", []) or any("eval: false" in d for d in _directives(cell))


def _for_readers(node, shown: str, package: str) -> None:
    """Drop nbdev's directive lines (and cells holding nothing else, or `#| hide`); say where the module is."""
    module = next((d.split()[-1] for c in node.cells for d in _directives(c) if "default_exp" in d), None)
    kept = []
    for cell in node.cells:
        directives = _directives(cell)
        if cell.cell_type == "code" and directives:
            if any(d.split()[1:2] == ["hide"] for d in directives):
                continue
            cell.source = "\n".join(line for line in cell.source.splitlines() if not line.startswith("#|")).strip()
            if not cell.source:
                continue
        kept.append(cell)
    if module and kept and kept[0].cell_type == "markdown":
        where = (f"The notebook `{shown}`; its exported cells are the module "
                 f"`{package}.{module}`.")
        kept.insert(1, nbformat.v4.new_markdown_cell(f"*{where}*"))
    node.cells = kept


def execute(source: Path, target: Path, kernel: str, timeout: int, shown: str, log: Path, package: str) -> str | None:
    """Execute a fresh copy of `source` into `target`; None, or what failed (`shown`, the cell, the error)."""
    with stderr_to(log):
        return _execute(source, target, kernel, timeout, shown, log, package)


def _execute(source: Path, target: Path, kernel: str, timeout: int, shown: str, log: Path, package: str) -> str | None:
    from airnub.engine.kernels import IPCKernelManager  # kernels on Unix sockets, no port race

    node = nbformat.read(source, as_version=4)
    client = NotebookClient(node, kernel_name=kernel, timeout=timeout, kernel_manager_class=IPCKernelManager,
                            config=Config({"IPCKernelManager": {"kernel_log": str(log)}}),
                            resources={"metadata": {"path": str(source.parent)}})
    with client.setup_kernel():
        for index, cell in enumerate(node.cells):
            if cell.cell_type != "code":
                continue
            cell.outputs, cell.execution_count = [], None
            if _skipped(cell):
                continue
            try:
                client.execute_cell(cell, index)
            except CellExecutionError as error:
                return f"{shown}: cell {index + 1} raised {error.ename}: {error.evalue}\n{_excerpt(cell)}"
            except CellTimeoutError:
                return f"{shown}: cell {index + 1} timed out after {timeout} s\n{_excerpt(cell)}"
            except DeadKernelError as error:
                return f"{shown}: the kernel died in cell {index + 1} ({error})\n{_excerpt(cell)}"
    _for_readers(node, shown, package)
    target.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(node, target)
    return None


def _excerpt(cell, lines: int = 3) -> str:
    head = cell.source.splitlines()[:lines]
    return "\n".join(f"    {line}" for line in head) + ("\n    ..." if len(cell.source.splitlines()) > lines else "")


def link_guides(guides: Path, destination: Path) -> int:
    """Symbolic links in `destination` to every file under `guides` (mkdocs follows them; edits show at once)."""
    count = 0
    for path in sorted(guides.rglob("*")):
        if path.is_file():
            link = destination / path.relative_to(guides)
            link.parent.mkdir(parents=True, exist_ok=True)
            link.symlink_to(path.resolve())
            count += 1
    return count


def pipeline_pages(destination: Path) -> list[str]:
    """A page per department in `destination`/pipelines: its pipeline as a picture; the failures (one line each)."""
    from airnub.orchestration.departments import departments
    from airnub.orchestration.plan_picture import department_page

    failures = []
    for department, title in departments().items():
        try:
            page = department_page(department, title)
        except Exception as error:  # a config or flow that cannot be planned: the page is broken, the build fails
            failures.append(f"pipeline page of department {department!r}: {type(error).__name__}: {error}")
            continue
        target = destination / PIPELINES / f"{department}.md"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(page, encoding="utf-8")
    return failures


def serve_mermaid(mermaid: Path, destination: Path) -> list[str]:
    """mermaid.js copied into the site's sources; a failure saying how to get it when `mermaid` is not there."""
    if not mermaid.is_file():
        return [f"{mermaid}: no mermaid.js to draw the pipeline pictures with; `make setup` fetches it"]
    (destination / MERMAID).parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(mermaid, destination / MERMAID)
    return []


def _package(folder: Path, root: Path) -> str:
    """The package the notebooks in `folder` export to: its nbdev project's (the tool's), else the project's."""
    return nbdev_folders(folder.parent if (folder.parent / "pyproject.toml").is_file() else root)[1].name


def build(destination: Path, workers: int, folders: list[Path]) -> list[str]:
    """Stage the site's notebooks (of the notebook `folders`) and guides in `destination` (emptied first); the
    failures, none when all ran."""
    settings = load_settings()
    shutil.rmtree(destination, ignore_errors=True)
    destination.mkdir(parents=True)
    sources = [(folder, source) for folder in folders for source in package_notebooks(folder)]
    with ProcessPoolExecutor(max_workers=workers) as pool:
        jobs = [pool.submit(execute, source, destination / source.relative_to(folder), settings.kernel_name,
                            settings.cell_timeout_seconds, source.relative_to(folder.parent).as_posix(),
                            destination / LOGS / source.relative_to(folder).with_suffix(".log"),
                            _package(folder, settings.paths.root))
                for folder, source in sources]
        failures = [failure for job in jobs if (failure := job.result())]
    link_guides(settings.paths.root / GUIDES, destination)
    return failures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=None, help="notebooks executed at once (max_workers)")
    parser.add_argument("--tool", type=Path, default=None, help="also the tool's notebooks (its folder)")
    parser.add_argument("--mermaid", type=Path, default=None, help="the mermaid.min.js the site serves (make docs "
                        "passes the one make setup fetched; without it, Material fetches one from a CDN)")
    args = parser.parse_args()
    started = time.monotonic()
    settings = load_settings()
    workers, destination = args.workers or settings.max_workers, docs_dir(settings.paths.root)
    folders = [settings.paths.notebooks, *([args.tool.resolve() / "nbs"] if args.tool else [])]
    failures = build(destination, workers, folders) + pipeline_pages(destination)
    failures += serve_mermaid(args.mermaid, destination) if args.mermaid else []
    for failure in failures:
        print(f"docs: {failure}", file=sys.stderr)
    if failures:
        print(f"docs: {len(failures)} page(s) failed; the site was not built", file=sys.stderr)
        return 1
    count = sum(len(package_notebooks(folder)) for folder in folders)
    print(f"docs: {count} notebooks executed ({workers} at a time) in {time.monotonic() - started:.0f} s "
          f"into {os.path.relpath(destination)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
