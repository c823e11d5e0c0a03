"""Cache keys that travel: a second checkout of the project, against the same storage mounted at another path, is
served from the cache what the first one ran; a changed input still runs."""

from __future__ import annotations

import json
import shutil

import pytest

from airnub.orchestration.notebook_flow import notebook_flow
from airnub.testing.helpers import PROJECT_ROOT, RECORD, write_notebook


def checkout(folder):
    """A project folder with the project's settings and the notebook both checkouts hold."""
    (folder / "nbs").mkdir(parents=True)
    for name in ("settings.ini", "pyproject.toml"):
        shutil.copy(PROJECT_ROOT / name, folder / name)
    write_notebook(folder / "nbs" / "summing.ipynb", "source: str = ''\nscale: int = 1",
                   f"{RECORD}\nimport pandas as pd", "record('total', int(pd.read_csv(source)['v'].sum()) * scale)")
    return folder


@pytest.fixture
def on(monkeypatch):
    """Point the settings at a project folder and a storage root, as a worker's environment does."""
    for name in ("AIRNUB_DATA_ROOT", "AIRNUB_MODELS_DIR", "AIRNUB_REPORTS_DIR", "AIRNUB_CACHE_DIR"):
        monkeypatch.delenv(name, raising=False)  # everything below the storage root

    def point(project, storage):
        monkeypatch.setenv("AIRNUB_PROJECT_ROOT", str(project))
        monkeypatch.setenv("AIRNUB_STORAGE_ROOT", str(storage))
    return point


def test_another_checkout_on_the_same_storage_is_served_from_the_cache(on, tmp_path):
    first, second = checkout(tmp_path / "machine-a" / "project"), checkout(tmp_path / "machine-b" / "work" / "project")
    storage = tmp_path / "machine-a" / "storage"
    (storage / "data").mkdir(parents=True)
    (storage / "data" / "numbers.csv").write_text("v\n1\n2\n")

    on(first, storage)
    ran = notebook_flow("nbs/summing.ipynb", {"source": str(storage / "data" / "numbers.csv")})
    assert not ran.from_cache and ran.values == {"total": 3}
    record = json.loads(next((storage / ".cache" / "notebooks").glob("*.json")).read_text())
    assert record["result"]["notebook"] == "{project}/nbs/summing.ipynb"
    assert "{storage}/data/numbers.csv" in record["depends"]["files"], record["depends"]

    mounted = tmp_path / "machine-b" / "mnt" / "team"  # the same storage, mounted elsewhere on the other machine
    mounted.parent.mkdir(parents=True)
    storage.rename(mounted)
    on(second, mounted)
    served = notebook_flow("nbs/summing.ipynb", {"source": str(mounted / "data" / "numbers.csv")})
    assert served.from_cache and served.values == {"total": 3}, served.reason
    assert served.html == mounted / ran.html.relative_to(storage) and served.html.is_file()
    assert served.notebook == second / "nbs" / "summing.ipynb"

    (mounted / "data" / "numbers.csv").write_text("v\n1\n2\n3\n")
    changed = notebook_flow("nbs/summing.ipynb", {"source": str(mounted / "data" / "numbers.csv")})
    assert not changed.from_cache and changed.values == {"total": 6}
    assert changed.reason.endswith("numbers.csv changed"), changed.reason
