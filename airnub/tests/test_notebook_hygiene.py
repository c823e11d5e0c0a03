"""Notebooks stay clean in git: the pre-commit hook; and the scaffolding wraps code at ruff's line length."""

from __future__ import annotations

import os
import shutil
import subprocess
import tomllib

import nbformat
from nbformat.v4 import new_output

from airnub.engine.settings import load_settings
from airnub.scaffolding.notebooks import report_notebook
from airnub.testing.helpers import PROJECT_ROOT

# What the hook needs in a project: the Makefile installs it, the config names it, the script and nbdev do the work.
HOOK_FILES = ["Makefile", "pyproject.toml", "airnub/pyproject.toml", "settings.ini", ".gitignore",
              ".pre-commit-config.yaml", "airnub/src/airnub/notebook_files/clean.py"]
# A package notebook, and a report notebook with papermill's `parameters` cell as `airnub new task --notebook-task`
# writes it (written by the test: a project may have no report of its own yet).
NOTEBOOKS = ["airnub/nbs/engine/00_settings.ipynb", "nbs/reports/tide_report.ipynb"]


def _run(*command: str, cwd, env) -> subprocess.CompletedProcess:
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


def _saved_by_jupyterlab(notebook) -> None:
    """Change `notebook` as opening, running and saving it in JupyterLab does."""
    node = nbformat.read(notebook, as_version=4)
    node.metadata.kernelspec.display_name = "Python (airnub-prefect-starter)"
    node.metadata["language_info"] = {"name": "python", "version": "3.11.9", "mimetype": "text/x-python",
                                      "file_extension": ".py", "codemirror_mode": {"name": "ipython", "version": 3}}
    for count, cell in enumerate((c for c in node.cells if c.cell_type == "code"), 1):
        cell.execution_count = count
        cell.metadata["execution"] = {"iopub.execute_input": "2026-11-25T10:00:00.1Z", "shell.execute_reply": "x"}
        cell.metadata["scrolled"] = True
        cell.metadata.setdefault("tags", [])  # papermill adds an empty list; a tagged cell keeps its tags
        cell.outputs = [new_output("stream", name="stdout", text="done\n"),
                        new_output("execute_result", {"text/plain": "<object at 0x7f3a2b>"}, execution_count=count,
                                   metadata={"isolated": True})]
    nbformat.write(node, notebook)


def test_saving_in_jupyterlab_leaves_git_clean_after_the_hook(tmp_path):
    project = tmp_path / "project"
    for name in HOOK_FILES + NOTEBOOKS[:1]:
        (project / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(PROJECT_ROOT / name, project / name)
    report = report_notebook("tide_report", "Tide report", "Harbour Ops, analysis", load_settings().kernel_name)
    (project / NOTEBOOKS[1]).parent.mkdir(parents=True)
    (project / NOTEBOOKS[1]).write_text(report)
    kept = {name: (project / name).read_bytes() for name in NOTEBOOKS}
    (project / ".venv").symlink_to(PROJECT_ROOT / ".venv")  # the hook runs the project's own .venv, as in a checkout
    env = {**os.environ, "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home"), "GIT_AUTHOR_NAME": "t",
           "GIT_AUTHOR_EMAIL": "t@example.com", "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com"}

    outside_git = _run("make", "-s", "hooks", cwd=project, env=env)
    assert outside_git.returncode == 0, outside_git.stdout + outside_git.stderr
    assert "not the top of a git repository, no pre-commit hook installed" in outside_git.stdout

    _run("git", "init", "-q", "-b", "main", cwd=project, env=env)
    installed = _run("make", "-s", "hooks", cwd=project, env=env)
    assert installed.returncode == 0 and (project / ".git" / "hooks" / "pre-commit").exists(), installed.stdout
    _run("git", "add", "-A", cwd=project, env=env)
    first = _run("git", "commit", "-q", "-m", "the notebooks as the project keeps them", cwd=project, env=env)
    assert first.returncode == 0, f"clean notebooks pass the hook unchanged: {first.stdout}{first.stderr}"

    for name in NOTEBOOKS:
        _saved_by_jupyterlab(project / name)
    assert _run("git", "status", "--porcelain", cwd=project, env=env).stdout.strip(), "the save changed the files"
    saved = _run("git", "commit", "-q", "-a", "-m", "opened and saved", cwd=project, env=env)
    assert saved.returncode != 0 and "files were modified by this hook" in saved.stdout + saved.stderr, saved.stdout
    _run("git", "add", "-A", cwd=project, env=env)
    assert _run("git", "status", "--porcelain", cwd=project, env=env).stdout == "", "nothing left to commit"
    for name in NOTEBOOKS:
        assert (project / name).read_bytes() == kept[name], name
    assert "parameters" in (project / NOTEBOOKS[1]).read_text(), "papermill's parameters tag is kept"


def test_the_scaffolding_line_length_is_ruffs():
    from airnub.scaffolding.python_edit import LINE_LENGTH

    ruff = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())["tool"]["ruff"]
    assert LINE_LENGTH == ruff["line-length"], "generated code is wrapped at ruff's line length (pyproject.toml)"
