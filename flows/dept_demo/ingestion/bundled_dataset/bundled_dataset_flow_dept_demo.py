"""Ingestion category: the dataset scikit-learn ships, into raw."""

from prefect import flow

from airnub.orchestration.config import load_config
from airnub_prefect_starter.data_science.config_ds import data_paths
from flows.dept_demo.ingestion.bundled_dataset.tasks.ingest_bundled_dataset_task import ingest_bundled_dataset_task


@flow(name="bundled-dataset-dept-demo")
def bundled_dataset_flow_dept_demo(keep_existing: bool | None = None) -> dict:
    """Copy the bundled wine dataset into raw. Unset parameters come from the category config."""
    config = load_config("dept_demo", "ingestion", "bundled_dataset", overrides={"keep_existing": keep_existing})
    return ingest_bundled_dataset_task(data_paths().raw_dataset, keep_existing=config["keep_existing"])


if __name__ == "__main__":
    bundled_dataset_flow_dept_demo()
