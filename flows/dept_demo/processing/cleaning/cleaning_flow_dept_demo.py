"""Processing category: validate and clean raw data into the interim table."""

from prefect import flow

from airnub.orchestration.config import load_config
from airnub_prefect_starter.data_science.config_ds import data_paths
from flows.dept_demo.processing.cleaning.tasks.clean_raw_files_task import clean_raw_files_task


@flow(name="cleaning-dept-demo")
def cleaning_flow_dept_demo(include_dropped_files: bool | None = None) -> dict:
    """Clean the bundled dataset (and the ingested inbox files, unless the config says not) into one interim table."""
    config = load_config("dept_demo", "processing", "cleaning",
                         overrides={"include_dropped_files": include_dropped_files})
    paths = data_paths()
    raw_files = paths.raw_files() if config["include_dropped_files"] else [paths.raw_dataset]
    return clean_raw_files_task(raw_files, paths.interim_dataset)


if __name__ == "__main__":
    cleaning_flow_dept_demo()
