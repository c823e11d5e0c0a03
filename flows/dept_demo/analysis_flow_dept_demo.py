"""Stage flow: analysis for the demo department."""

from prefect import flow

from airnub.orchestration.locks import one_run_at_a_time
from airnub.orchestration.subflows import without_heartbeats
from flows.dept_demo.analysis.evaluation.evaluation_flow_dept_demo import evaluation_flow_dept_demo
from flows.dept_demo.analysis.training.training_flow_dept_demo import training_flow_dept_demo


@flow(name="analysis-dept-demo")
@without_heartbeats()
@one_run_at_a_time()
def analysis_flow_dept_demo(run_training: bool = True, run_evaluation: bool = True) -> dict:
    """Train the classifier, then evaluate it with the report notebook."""
    results = {}
    if run_training:
        results["training"] = training_flow_dept_demo()
    if run_evaluation:
        results["evaluation"] = evaluation_flow_dept_demo()
    return results


if __name__ == "__main__":
    analysis_flow_dept_demo()
