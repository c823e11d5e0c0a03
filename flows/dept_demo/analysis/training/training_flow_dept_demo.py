"""Analysis category: train the wine classifier."""

from prefect import flow

from airnub_prefect_starter.data_science.config_ds import load_settings
from flows.dept_demo.analysis.training.tasks.train_model_task import train_model_task


@flow(name="training-dept-demo")
def training_flow_dept_demo(test_size: float = 0.25, random_state: int = 42, regularisation: float = 1.0) -> dict:
    """Train and save the model; return its card (metrics, parameters, versions)."""
    paths = load_settings().paths
    return train_model_task(paths.features, paths.model, paths.model_card, test_size, random_state, regularisation)


if __name__ == "__main__":
    training_flow_dept_demo()
