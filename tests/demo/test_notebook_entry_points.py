"""The demo's notebooks are safe to run: Run All in a kernel never runs their script entry points."""

from __future__ import annotations

import nbformat
import pytest
from nbclient import NotebookClient

from airnub.engine.kernels import IPCKernelManager
from airnub.engine.settings import load_settings
from airnub.testing.helpers import PROJECT_ROOT


@pytest.mark.parametrize("notebook", ["10_dataset_processing", "20_feature_engineering", "30_modeling_train",
                                      "40_modeling_predict"])
def test_run_all_in_a_kernel_never_runs_the_script_entry_point(notebook, project, tmp_path):
    """In a kernel `__name__` is "__main__": the `main()` cell must not run, or Run All writes the project's data."""
    path = PROJECT_ROOT / "nbs" / "data_science" / f"{notebook}.ipynb"
    node = nbformat.read(path, as_version=4)
    assert any("main()" in c.source and "__main__" in c.source for c in node.cells), "the notebook has an entry cell"
    client = NotebookClient(node, kernel_name=load_settings().kernel_name, timeout=300,
                            kernel_manager_class=IPCKernelManager,  # the project's kernels: Unix sockets, not TCP
                            resources={"metadata": {"path": str(path.parent)}})
    client.execute()  # main() would write under the test's data and models folders, or fail on their missing inputs
    written = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert written == [], f"Run All wrote outside the pipeline: {written}"
