"""A temporary copy of the project, scaffolded once per module by the generators run as a user runs them."""

from __future__ import annotations

import pytest
from generator_helpers import SCAFFOLD, copy_env, copy_project, generate, snapshot
from helpers import PROJECT_ROOT


@pytest.fixture(scope="module")
def scaffolded(tmp_path_factory):
    """`(root, env, before)`: a scaffolded copy of the project, and the snapshot of the copy before it."""
    root = tmp_path_factory.mktemp("project") / "airnub-prefect-starter"
    copy_project(PROJECT_ROOT, root)
    env = copy_env(root, tmp_path_factory.mktemp("prefect-home"))
    before = snapshot(root)
    for command, *args in SCAFFOLD:
        done = generate(root, env, command, *args)
        assert done.returncode == 0, f"{command}: {done.stdout}\n{done.stderr}"
    return root, env, before
