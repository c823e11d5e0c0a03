"""`make deploy`'s code source: the repository at HEAD, refused in one line when it would not carry the checkout's code.

Real git repositories in a temporary folder: a bare repository and a clone of it, as a team's origin and checkout.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from airnub.orchestration.code_source import SourceError, default_repository, deployed_source, pull_code

GIT_ENV = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.org", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@example.org"}


def git(*args, cwd=None) -> str:
    return subprocess.run(["git", *map(str, args)], cwd=cwd, check=True, capture_output=True, text=True,
                          env={**GIT_ENV, "PATH": "/usr/bin:/bin", "HOME": str(cwd or "/tmp")}).stdout.strip()


@pytest.fixture
def checkout(tmp_path):
    """A clone of a bare repository holding one pushed commit."""
    bare, work = tmp_path / "origin.git", tmp_path / "checkout"
    git("init", "--quiet", "--bare", "--initial-branch=main", bare)
    git("clone", "--quiet", bare, work)
    (work / "flow.py").write_text("print('v1')\n")
    git("add", "flow.py", cwd=work)
    git("commit", "--quiet", "-m", "v1", cwd=work)
    git("push", "--quiet", "origin", "HEAD:main", cwd=work)
    return work


def test_a_pushed_clean_head_is_deployed_at_its_commit(checkout):
    origin = default_repository(checkout)
    assert deployed_source(checkout, origin) == {"AIRNUB_GIT_REPOSITORY": origin,
                                                 "AIRNUB_GIT_COMMIT": git("rev-parse", "HEAD", cwd=checkout)}


def test_uncommitted_changes_and_unpushed_commits_are_refused_in_one_line(checkout):
    origin = default_repository(checkout)
    (checkout / "flow.py").write_text("print('v2')\n")
    (checkout / "new.py").write_text("")
    with pytest.raises(SourceError, match=r"^make deploy: 2 uncommitted change\(s\) the deployment would not carry "
                                          r"\(flow\.py, new\.py\): commit and push them") as refused:
        deployed_source(checkout, origin)
    assert "\n" not in str(refused.value)
    git("add", "flow.py", "new.py", cwd=checkout)
    git("commit", "--quiet", "-m", "v2", cwd=checkout)
    with pytest.raises(SourceError, match=r"^make deploy: HEAD [0-9a-f]{12} is not on .*origin\.git: push it first"):
        deployed_source(checkout, origin)


def test_no_repository_deploys_the_checkout_and_its_step_works_there(checkout, tmp_path, monkeypatch):
    assert default_repository(tmp_path) == ""  # not a checkout: no origin
    assert deployed_source(checkout, "") == {"AIRNUB_GIT_REPOSITORY": "", "AIRNUB_GIT_COMMIT": ""}
    monkeypatch.chdir(tmp_path)
    assert pull_code("", "", str(checkout)) == {"directory": str(checkout)}
    assert os.getcwd() == str(checkout), "the flow run works in the checkout"


def test_the_pull_step_clones_the_deployed_commit_not_the_newest(checkout, tmp_path, monkeypatch):
    origin, first = default_repository(checkout), git("rev-parse", "HEAD", cwd=checkout)
    (checkout / "flow.py").write_text("print('v2')\n")
    git("commit", "--quiet", "-am", "v2", cwd=checkout)
    git("push", "--quiet", "origin", "HEAD:main", cwd=checkout)
    worker = tmp_path / "worker"
    worker.mkdir()
    monkeypatch.chdir(worker)
    directory = Path(pull_code(f"file://{origin}", first, "/nowhere")["directory"])
    assert directory.parent == worker.resolve() and os.getcwd() == str(directory), "cloned where the run works"
    assert (directory / "flow.py").read_text() == "print('v1')\n", "the deployed commit, not main's newest"
