"""Which outputs a flow locks, and where the lock lives: the rules, on their own (the locks between real processes
are in integration/test_output_locks.py)."""

from __future__ import annotations

from dataclasses import replace

from airnub.engine.settings import load_settings
from airnub.orchestration.locks import limit_name, lock_file, locks_on_server, outputs_of


def a_flow(module: str):
    def flow_body() -> None: ...
    flow_body.__module__ = module
    return flow_body


def test_a_flow_locks_its_departments_outputs(tmp_path):
    root = tmp_path / "project"
    assert outputs_of(a_flow("flows.dept_sales.pipeline_flow_dept_sales"), root) == "dept_sales"
    assert outputs_of(a_flow("flows.dept_sales.analysis.training.training_flow_dept_sales"), root) == "dept_sales"
    assert outputs_of(a_flow("tools.backfill"), root) == "backfill", "outside a department: its module's"
    script = root / "flows" / "dept_ops" / "processing_flow_dept_ops.py"  # a stage flow run as a script
    script.parent.mkdir(parents=True)
    script.write_text("def stage(): ...\n")
    found = {"__name__": "__main__"}
    exec(compile(script.read_text(), str(script), "exec"), found)
    assert outputs_of(found["stage"], root) == "dept_ops"


def test_the_lock_is_on_the_server_for_a_team_server_and_a_file_on_one_machine(project):
    settings = load_settings()
    own = f"http://127.0.0.1:{settings.server.port}/api"
    assert not locks_on_server(settings, ""), "Prefect's temporary server: one machine"
    assert not locks_on_server(settings, own) and not locks_on_server(settings, own.replace("127.0.0.1", "localhost"))
    assert locks_on_server(settings, "http://prefect-host:4200/api")
    assert locks_on_server(settings, f"http://127.0.0.1:{settings.server.port + 1}/api"), "another server"
    assert not locks_on_server(replace(settings, output_locks="files"), "http://prefect-host:4200/api")
    assert locks_on_server(replace(settings, output_locks="server"), "")
    assert lock_file(settings, "dept_ops") == settings.paths.data_root / ".airnub-locks" / "dept_ops.lock"
    assert limit_name(settings, "dept_ops").endswith("-dept-ops") and limit_name(settings, "dept_ops").startswith(
        "airnub-outputs-")
