"""The demo department's whole pipeline: ingestion, processing, analysis, in order (what `make run` runs)."""

from prefect import flow

from airnub.orchestration.locks import one_run_at_a_time
from airnub.orchestration.subflows import without_heartbeats
from flows.dept_demo.analysis_flow_dept_demo import analysis_flow_dept_demo
from flows.dept_demo.ingestion_flow_dept_demo import ingestion_flow_dept_demo
from flows.dept_demo.processing_flow_dept_demo import processing_flow_dept_demo


@flow(name="pipeline-dept-demo")
@without_heartbeats()
@one_run_at_a_time()
def pipeline_flow_dept_demo() -> dict:
    """Run the three stages of the demo department in order."""
    return {"ingestion": ingestion_flow_dept_demo(), "processing": processing_flow_dept_demo(),
            "analysis": analysis_flow_dept_demo()}


if __name__ == "__main__":
    pipeline_flow_dept_demo()
