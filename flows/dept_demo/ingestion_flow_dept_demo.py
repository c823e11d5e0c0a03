"""Stage flow: ingestion for the demo department."""

from prefect import flow

from airnub.engine.settings import ensure_directories, load_settings
from airnub.orchestration.locks import one_run_at_a_time
from airnub.orchestration.subflows import without_heartbeats
from airnub.orchestration.task_runner import task_runner_from_settings
from airnub_prefect_starter.data_science.config_ds import data_paths
from flows.dept_demo.ingestion.bundled_dataset.bundled_dataset_flow_dept_demo import bundled_dataset_flow_dept_demo
from flows.dept_demo.ingestion.inbox_csv.inbox_csv_flow_dept_demo import inbox_csv_flow_dept_demo


@flow(name="ingestion-dept-demo")
@without_heartbeats()
@one_run_at_a_time()
def ingestion_flow_dept_demo(run_bundled_dataset: bool = True, run_inbox_csv: bool = True) -> dict:
    """Bring the demo's data into raw: the bundled dataset, then files dropped into the inbox."""
    paths = data_paths(ensure_directories(load_settings().paths))
    paths.raw_dropped.mkdir(exist_ok=True)  # where inbox files land: there to look at from the first run
    results = {}
    if run_bundled_dataset:
        results["bundled_dataset"] = bundled_dataset_flow_dept_demo()
    if run_inbox_csv:
        results["inbox_csv"] = inbox_csv_flow_dept_demo.with_options(task_runner=task_runner_from_settings())()
    return results


if __name__ == "__main__":
    ingestion_flow_dept_demo()
