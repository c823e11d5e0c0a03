"""Give a copy of this template its own names: the import name, the project slug and the display name.

Copier runs it as a task (copier.yml) in every project it generates, and again in the copies it renders while
`copier update` computes the template's changes; it also runs standalone on any copy of the template:

    python scripts/rename_project.py --root ../harbour-analytics --project-name "Harbour Analytics" \
        --package-name harbour_analytics [--without-demo]

What it rewrites, in every text file (binary files and tool folders such as .git/ and .venv/ are left alone):
- the import name `airnub_prefect_starter` -> the package name, and the package folder of that name;
- the slug `airnub-prefect-starter` (distribution name, kernel name, Prefect project) -> the project's slug, and
  the work pool `airnub-process-pool` -> `<slug>-process-pool`;
- a Markdown title `# airnub-prefect-starter` (README, nbs/index.ipynb) -> `# <project name>`.
- the README's template sections (how to make a project from the template) -> the project's own (how to update it).
The `airnub` command keeps its name: it is the tool, not the project.

The tool's folder, airnub/, is left as it is: every project has the same.

With --without-demo it also takes the demo department out of the files every project keeps (its deployments in
prefect.local.yaml, prefect.docker.yaml and prefect.kubernetes.yaml, the default department of `make run`, `make bench`
and `make bench-team`,
the default input_table of settings.ini, the demo's sections of the README, the guides and nbs/index.ipynb);
copier.yml leaves the demo's own files out.
Running it twice changes nothing the second time.
"""

from __future__ import annotations

import argparse
import ast
import json
import keyword
import os
import re
import shutil
import sys
from collections.abc import Callable
from pathlib import Path
from pprint import pformat

OLD_PACKAGE = "airnub_prefect_starter"
OLD_SLUG = "airnub-prefect-starter"
OLD_WORK_POOL = "airnub-process-pool"
# The deployments files: the same deployments on a process, a Docker and a Kubernetes work pool.
DEPLOYMENTS_FILES = ("prefect.local.yaml", "prefect.docker.yaml", "prefect.kubernetes.yaml")
# The names a package cannot take, with the reason; copier.yml's validator reads the same file.
RESERVED_NAMES = Path(__file__).with_name("reserved_package_names.txt")
# Folders no text is rewritten in: version control, environments and caches anywhere, outputs at the top.
SKIPPED_FOLDERS = {".git", ".hg", ".venv", "venv", "node_modules", "__pycache__", ".ipynb_checkpoints", ".prefect",
                   ".cache", ".nbval", ".pytest_cache", ".ruff_cache", "_proc", "_docs"}
OUTPUT_FOLDERS = {"data", "models", "reports", "site"}
# The tool: copied into every project as it is, never renamed (a `copier update` replaces it whole).
TOOL_FOLDER = "airnub"
# Copier's record of the answers and the template's address: never rewritten (an update reads it).
SKIPPED_FILES = {".copier-answers.yml"}
# In Markdown (README.md, docs/, the notebooks' Markdown cells), a pair of sections: what goes is written once between
# `<!-- NAME -->` and `<!-- /NAME -->`, and what shows instead is kept in a comment, `<!-- OTHER` ... `-->`.
# A section on lines of its own goes with its line breaks; one inside a line leaves the line's own. Two such pairs:
# the demo's (`demo` / `no-demo`: what only the demo needs, what a project without it reads) and the README's
# (`template` / `project`: how to make a project from the template, what a project says of itself instead).


def section_swap(dropped: str, shown: str) -> Callable[[str], str]:
    """Markdown text -> the same without its `dropped` sections and with its `shown` comments shown."""
    drop = re.compile(rf"(?m)^<!-- {dropped} -->\n.*?^<!-- /{dropped} -->\n|<!-- {dropped} -->.*?<!-- /{dropped} -->",
                      re.DOTALL)
    show = re.compile(rf"(?m)^<!-- {shown}\n(.*?)^-->\n|<!-- {shown} (.*?)-->", re.DOTALL)
    return lambda text: show.sub(lambda match: match[1] or match[2] or "", drop.sub("", text))


DEMO_SWAP, README_SWAP = section_swap("demo", "no-demo"), section_swap("template", "project")


def slug(name: str) -> str:
    """The kebab-case slug of a display name: `Harbour Analytics` -> `harbour-analytics`."""
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def reserved_package_names() -> dict[str, str]:
    """`{name: reason}` from RESERVED_NAMES (keywords, standard library, dependencies, the project's folders)."""
    lines = RESERVED_NAMES.read_text(encoding="utf-8").splitlines()
    return dict(line.split(": ", 1) for line in lines if line and not line.startswith("#"))


def check_package_name(name: str) -> str:
    """`name` when it can be the project's import name, else a ValueError that says why."""
    if not re.fullmatch(r"[a-z][a-z0-9_]*", name) or keyword.iskeyword(name):
        raise ValueError(f"package name: {name!r} is not a lower-case Python identifier (e.g. harbour_analytics)")
    if reason := reserved_package_names().get(name):
        raise ValueError(f"package name: {name!r} is {reason}, so a package of that name would break imports; "
                         "expected another name")
    return name


Rules = list[tuple[re.Pattern, str | Callable[[re.Match], str]]]


def replacements(project_name: str, package_name: str, project_slug: str, work_pool: str) -> Rules:
    """The rewrites, in order: the title first (it contains the slug), then the work pool, slug and import name."""
    title = json.dumps(project_name, ensure_ascii=False)[1:-1]  # also valid inside a notebook's JSON strings
    return [(re.compile(rf'(?m)(^|")# {OLD_SLUG}(?=$|\\n")'), lambda match: f"{match[1]}# {title}"),
            (re.compile(rf"(?m)^site_name: {OLD_SLUG}$"), lambda match: f"site_name: {json.dumps(project_name)}"),
            *((re.compile(re.escape(old)), lambda match, new=new: new)  # taken as they are, never as escapes
              for old, new in ((OLD_WORK_POOL, work_pool), (OLD_SLUG, project_slug), (OLD_PACKAGE, package_name)))]


def text_files(root: Path):
    """Every file under `root` whose text may be rewritten (skipped folders and answers file aside)."""
    for folder, subfolders, files in os.walk(root):  # skipped folders are pruned, not walked
        top = Path(folder) == root
        subfolders[:] = sorted(d for d in subfolders
                               if d not in SKIPPED_FOLDERS and not (top and d in {*OUTPUT_FOLDERS, TOOL_FOLDER}))
        for name in sorted(files):
            path = Path(folder, name)
            if path.is_file() and not path.is_symlink() and name not in SKIPPED_FILES:
                yield path


def read_text(path: Path) -> str | None:
    """The file's text, or None for a binary file (a NUL byte, or not UTF-8)."""
    data = path.read_bytes()
    if b"\0" in data[:8192]:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def rename_package_folder(root: Path, package_name: str) -> None:
    """Move `airnub_prefect_starter/` to `<package_name>/`, merged into it when it exists (as during an update)."""
    old, new = root / OLD_PACKAGE, root / package_name
    if not old.is_dir() or old == new:
        return
    for source in sorted(p for p in old.rglob("*") if p.is_file()):
        target = new / source.relative_to(old)
        target.parent.mkdir(parents=True, exist_ok=True)
        source.replace(target)
    shutil.rmtree(old)


def rewrite_names(root: Path, rules: Rules) -> list[Path]:
    """Apply `rules` to every text file; return the files changed."""
    changed = []
    for path in text_files(root):
        text = read_text(path)
        if text is None:
            continue
        new = text
        for pattern, replacement in rules:
            new = pattern.sub(replacement, new)
        if new != text:
            path.write_bytes(new.encode("utf-8"))  # bytes: line endings stay as they were
            changed.append(path)
    return changed


def reformat_module_index(root: Path, package_name: str) -> None:
    """Lay out `<package>/_modidx.py` as nbdev-export writes it: its alignment depends on the names' lengths."""
    index = root / package_name / "_modidx.py"
    if index.is_file():
        header, _, literal = index.read_text(encoding="utf-8").partition("d = ")
        data = ast.literal_eval(literal)
        # modules left out of the copy (the demo's) are left out of the index, as nbdev-export would leave them
        data["syms"] = {module: symbols for module, symbols in data.get("syms", {}).items()
                        if all((root / path).is_file() for _, path in symbols.values())}
        index.write_text(header + "d = " + pformat(data, width=140, indent=2, compact=True) + "\n", encoding="utf-8")


def edit(path: Path, change) -> None:
    """Apply `change` (text -> text) to `path` when it exists."""
    if path.is_file():
        text = path.read_text(encoding="utf-8")
        new = change(text)
        if new != text:
            path.write_text(new, encoding="utf-8")


def without_demo_deployments(text: str) -> str:
    """A deployments file without the demo's block of deployments (`# --- department: demo ---` up to the next)."""
    text = re.sub(r"(?ms)^  # --- department: demo .*?(?=^  # --- department: |\Z)", "", text)
    return re.sub(r"(?m)^deployments:\n(?!  )", "deployments: []\n", text.rstrip("\n") + "\n")


def without_demo_sections(text: str) -> str:
    """Markdown `text` without its demo sections, and with what a project without the demo reads instead."""
    return DEMO_SWAP(text)


def project_sections(text: str) -> str:
    """Markdown `text` without what only the template says, and with what the project says of itself instead."""
    return README_SWAP(text)


def without_demo_cells(text: str) -> str:
    """A notebook's JSON `text` with its Markdown cells as `without_demo_sections` leaves them (nbdev's layout)."""
    notebook = json.loads(text)
    changed = False
    for cell in notebook.get("cells", []):
        source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
        if cell["cell_type"] == "markdown" and (new := without_demo_sections(source)) != source:
            cell["source"], changed = new.splitlines(keepends=True), True
    return json.dumps(notebook, indent=1, ensure_ascii=False) + "\n" if changed else text


def without_bench(text: str) -> str:
    """The Makefile without `make bench`, `bench-team` and `bench-scale` (scripts/benchmark*.py measure the demo)."""
    text = re.sub(r"(?m)^(ROWS \?= .*\n)?bench(-team|-scale)?: .*\n(\t.*\n)*\n?", "", text)
    for target in ("bench-team", "bench-scale", "bench"):
        text = re.sub(rf"(?m)^(\.PHONY: .*) {target}( |$)", r"\1\2", text)
    return text


def remove_demo_mentions(root: Path) -> None:
    """Take the demo department out of the files every project keeps."""
    for deployments_file in DEPLOYMENTS_FILES:
        edit(root / deployments_file, without_demo_deployments)
    edit(root / "Makefile", lambda t: without_bench(re.sub(r"(?m)^DEPARTMENT \?= demo$", "DEPARTMENT ?=", t)))
    edit(root / "settings.ini", lambda t: re.sub(r"(?m)^input_table = .*$", "input_table =", t))
    for path in [root / "README.md", *sorted((root / "docs").rglob("*.md"))]:
        edit(path, without_demo_sections)
    for path in sorted((root / "nbs").rglob("*.ipynb")):
        edit(path, without_demo_cells)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", type=Path, default=Path.cwd(), help="the copy to rename (default: here)")
    parser.add_argument("--project-name", required=True, help='display name, e.g. "Harbour Analytics"')
    parser.add_argument("--package-name", required=True, help="import name, e.g. harbour_analytics")
    parser.add_argument("--project-slug", help="distribution and kernel name (default: from the project name)")
    parser.add_argument("--work-pool", help="Prefect work pool (default: <slug>-process-pool)")
    parser.add_argument("--without-demo", action="store_true", help="take the demo department out of kept files")
    parser.add_argument("--with-demo", dest="without_demo", action="store_false", help="keep it (the default)")
    args = parser.parse_args(argv)
    project_slug = args.project_slug or slug(args.project_name)
    work_pool = args.work_pool or f"{project_slug}-process-pool"
    try:
        check_package_name(args.package_name)
        if (not re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", project_slug) or args.project_name.startswith("-")
                or re.search(r'["\\\x00-\x1f\x7f]', args.project_name)):
            raise ValueError(f"project name: {args.project_name!r} needs a letter or digit, no leading '-' and no "
                             "quotes, backslashes or control characters (line breaks, carriage returns, tabs)")
    except ValueError as error:
        print(f"rename_project: {error}", file=sys.stderr)
        return 2
    root = args.root.resolve()
    rename_package_folder(root, args.package_name)
    changed = rewrite_names(root, replacements(args.project_name, args.package_name, project_slug, work_pool))
    reformat_module_index(root, args.package_name)
    edit(root / "README.md", project_sections)
    if args.without_demo:
        remove_demo_mentions(root)
    print(f"rename_project: {args.package_name} ({project_slug}): {len(changed)} files rewritten")
    return 0


if __name__ == "__main__":
    sys.exit(main())
