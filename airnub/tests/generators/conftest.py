"""A temporary copy of the project, scaffolded once per module by the generators run as a user runs them."""

from __future__ import annotations

import pytest

from airnub.testing.helpers import PROJECT_ROOT, seed_prefect_home
from airnub.testing.scaffold import SCAFFOLD, scaffold_copy


@pytest.fixture(scope="module")
def scaffolded(tmp_path_factory, prefect_database):
    """`(root, env, before)`: a scaffolded copy of the project, and the snapshot of the copy before it."""
    return scaffold_copy(PROJECT_ROOT, tmp_path_factory.mktemp("project"),
                         seed_prefect_home(tmp_path_factory.mktemp("prefect-home"), prefect_database), SCAFFOLD)
