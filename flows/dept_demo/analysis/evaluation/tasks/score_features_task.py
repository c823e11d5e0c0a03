"""Task: score the feature table with the saved model."""

from pathlib import Path

from prefect import task
from prefect.logging import get_run_logger

from airnub.orchestration.cache import cached
from airnub_prefect_starter.core.model_inference import score_features


@task(name="score-features")
@cached(outputs=("predictions_file",))
def score_features_task(model_file: Path, card_file: Path, features_file: Path, predictions_file: Path) -> dict:
    """Predict every row of the feature table; return the summary."""
    summary = score_features(model_file, card_file, features_file, predictions_file)
    get_run_logger().info("%s: %d rows, classes %s", predictions_file, summary["rows"], summary["predicted_classes"])
    return summary
