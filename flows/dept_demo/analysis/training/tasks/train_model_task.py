"""Task: train the classifier and save it with its model card."""

from pathlib import Path

from prefect import task
from prefect.logging import get_run_logger

from airnub.orchestration.cache import cached
from airnub_prefect_starter.data_science.modeling.train import train_and_save


@task(name="train-model")
@cached(outputs=("model_file", "card_file"))
def train_model_task(features_file: Path, model_file: Path, card_file: Path, test_size: float = 0.25,
                     random_state: int = 42, regularisation: float = 1.0) -> dict:
    """Train on `features_file`, save the model and its card; return the card."""
    card = train_and_save(features_file, model_file, card_file, test_size, random_state, regularisation)
    get_run_logger().info("%s: held-out accuracy %.3f, macro F1 %.3f", model_file,
                          card["metrics"]["accuracy"], card["metrics"]["f1_macro"])
    return card
