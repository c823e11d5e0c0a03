"""Stage flow: processing for the demo department."""

from prefect import flow

from airnub.orchestration.locks import one_run_at_a_time
from airnub.orchestration.subflows import without_heartbeats
from flows.dept_demo.processing.cleaning.cleaning_flow_dept_demo import cleaning_flow_dept_demo
from flows.dept_demo.processing.features.features_flow_dept_demo import features_flow_dept_demo


@flow(name="processing-dept-demo")
@without_heartbeats()
@one_run_at_a_time()
def processing_flow_dept_demo(run_cleaning: bool = True, run_features: bool = True) -> dict:
    """Raw -> interim (validated, clean) -> processed (features)."""
    results = {}
    if run_cleaning:
        results["cleaning"] = cleaning_flow_dept_demo()
    if run_features:
        results["features"] = features_flow_dept_demo()
    return results


if __name__ == "__main__":
    processing_flow_dept_demo()
