"""Processing category: engineered features, interim -> processed."""

from prefect import flow

from airnub.orchestration.config import load_config
from airnub_prefect_starter.data_science.config_ds import data_paths
from flows.dept_demo.processing.features.tasks.build_feature_table_task import build_feature_table_task


@flow(name="features-dept-demo")
def features_flow_dept_demo(min_rows: int | None = None) -> dict:
    """Build the processed feature table the model trains on, from at least `min_rows` clean rows (config)."""
    config = load_config("dept_demo", "processing", "features", overrides={"min_rows": min_rows})
    paths = data_paths()
    return build_feature_table_task(paths.interim_dataset, paths.features, config["min_rows"])


if __name__ == "__main__":
    features_flow_dept_demo()
