"""Analysis category: train the wine classifier."""

from prefect import flow

from airnub.orchestration.config import load_config
from airnub.orchestration.notify_task import notify_task
from airnub_prefect_starter.data_science.config_ds import data_paths
from flows.dept_demo.analysis.training.tasks.train_model_task import train_model_task


@flow(name="training-dept-demo")
def training_flow_dept_demo(test_size: float | None = None, random_state: int | None = None,
                            regularisation: float | None = None) -> dict:
    """Train and save the model, post its metrics to the team webhook (if set); return its card.

    Unset parameters come from the category config.
    """
    config = load_config("dept_demo", "analysis", "training", overrides={
        "test_size": test_size, "random_state": random_state, "regularisation": regularisation})
    paths = data_paths()
    card = train_model_task(paths.features, paths.model, paths.model_card, **config)
    notify_task(values=card["metrics"], **load_config("dept_demo", "analysis", "training", "notify_webhook"))
    return card


if __name__ == "__main__":
    training_flow_dept_demo()
