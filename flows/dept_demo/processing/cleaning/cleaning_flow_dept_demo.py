"""Processing category: validate and clean raw data into the interim table."""

from prefect import flow

from airnub_prefect_starter.data_science.config_ds import load_settings
from flows.dept_demo.processing.cleaning.tasks.clean_raw_files_task import clean_raw_files_task


@flow(name="cleaning-dept-demo")
def cleaning_flow_dept_demo() -> dict:
    """Clean the bundled dataset and the ingested inbox files into one interim table."""
    paths = load_settings().paths
    return clean_raw_files_task(paths.raw_files(), paths.interim_dataset)


if __name__ == "__main__":
    cleaning_flow_dept_demo()
