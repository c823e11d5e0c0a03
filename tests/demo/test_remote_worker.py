"""From one machine to many: the demo's pipeline deployment runs on workers that share nothing with the checkout.

The checkout is a clone of a bare repository (served from a path, `file://`); `make deploy REPOSITORY=...` pins the
deployments to its HEAD. Each worker plays another machine (airnub.testing.team, .remote): an empty working folder,
its own HOME, a venv built from the deployed commit's wheels, no path into the checkout (its audit log stays empty),
and only the Prefect server and one storage folder (AIRNUB_STORAGE_ROOT) in common. The run completes, its outputs
land in the storage, and its report opens from the flow run's artifact in the Prefect UI (headless Chromium) through
the reports server that serves the storage root (`reports_url`), never a path on the worker's disk. A worker killed
in the middle of a run: its run crashes, `make deploy`'s automation schedules it again once, the other worker runs it.
"""

from __future__ import annotations

import html
import json
import os
import re
import signal
import subprocess
import sys
import urllib.request

import pytest

from airnub.testing.browser import CHROMIUM, browser_page, sign_in
from airnub.testing.helpers import wait_for
from airnub.testing.team import assemble_team, git, ran_on

pytestmark = pytest.mark.integration

PIPELINE = "pipeline-dept-demo/pipeline-dept-demo"
READ_ARTIFACTS = """
import asyncio, json
from prefect.client.orchestration import get_client
async def main():
    async with get_client() as client:
        artifacts = await client.read_artifacts()
    print(json.dumps([{"key": a.key, "flow_run_id": str(a.flow_run_id), "data": a.data} for a in artifacts]))
asyncio.run(main())
"""


def report_artifact(env: dict) -> dict:
    """The markdown artifact that links the evaluation report."""
    done = subprocess.run([sys.executable, "-c", READ_ARTIFACTS], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    (artifact,) = [a for a in json.loads(done.stdout) if a["data"] and "model_evaluation.html" in a["data"]]
    return artifact


def test_the_pipeline_runs_on_a_worker_that_shares_only_storage_and_server(server, tmp_path):
    team = assemble_team(tmp_path, server)
    with server.start():
        dirty = team.checkout / "flows" / "uncommitted.py"
        dirty.write_text("# not committed\n")
        refused = team.deploy()
        assert refused.returncode != 0 and "1 uncommitted change(s) the deployment would not carry " \
            "(flows/uncommitted.py)" in refused.stderr, refused.stdout + refused.stderr
        dirty.unlink()
        deployed = team.deploy()
        assert deployed.returncode == 0, deployed.stdout + deployed.stderr
        assert f"workers run the code of file://{team.repository} at {team.commit[:12]}" in deployed.stdout

        with team.worker("machine") as (_, log):
            run = subprocess.run([sys.executable, "-m", "prefect", "deployment", "run", PIPELINE, "--watch",
                                  "--watch-timeout", "600"], env=server.env, capture_output=True, text=True,
                                 timeout=660)
        assert run.returncode == 0 and "Completed" in run.stdout, run.stdout + run.stderr + log.read_text()[-4000:]
        artifact = report_artifact(server.env)
        link = re.search(r"\[model_evaluation\.html\]\((\S+)\)", artifact["data"]).group(1)
        assert link.startswith(f"{team.reports_url}/"), link
        with urllib.request.urlopen(link, timeout=30) as response:
            assert response.status == 200
            title = html.unescape(re.search(r"<title>(.*?)</title>", response.read().decode()).group(1))
        if CHROMIUM:
            opened_from_the_ui(server, artifact, link, title)

    audit = tmp_path / "machine" / "audit.log"
    assert not audit.exists(), f"the worker touched the checkout:\n{audit.read_text()[:3000]}"
    assert list((tmp_path / "machine" / "work").iterdir()) == [], "the worker's folder stays empty"
    assert sorted(team.storage.glob("reports/**/model_evaluation.html")) and any((team.storage / "models").rglob("*"))
    assert git("status", "--porcelain", "--ignored", cwd=team.checkout).strip() == "!! .venv", "checkout untouched"


def opened_from_the_ui(server, artifact: dict, link: str, title: str) -> None:
    """Sign in to the UI, open the artifact from its flow run's page, click the report's link: the report shows."""
    with browser_page() as page:
        ui = server.api_url.removesuffix("/api")
        sign_in(page, ui, server.home / "api-auth")
        page.goto(f"{ui}/runs/flow-run/{artifact['flow_run_id']}")
        page.get_by_text("Artifacts", exact=True).click()
        page.get_by_role("link", name=re.compile(artifact["key"])).first.click()
        anchor = page.get_by_role("link", name="model_evaluation.html", exact=True)
        assert anchor.get_attribute("href") == link
        if anchor.get_attribute("target") == "_blank":
            with page.context.expect_page(timeout=10000) as opened:
                anchor.click()
            shown = opened.value
        else:
            anchor.click()
            shown = page
        shown.wait_for_load_state()
        assert shown.url == link and shown.title() == title, (shown.url, shown.title())


def test_a_killed_workers_run_is_run_again_by_the_other_worker(server, tmp_path):
    team = assemble_team(tmp_path, server)
    with server.start():
        deployed = team.deploy()
        assert deployed.returncode == 0, deployed.stdout + deployed.stderr
        with team.worker("first") as (first, first_log), team.worker("second") as (_, second_log):
            ids = team.submit(PIPELINE, 4)
            running = []  # the run the first worker took, once it runs

            def first_runs() -> bool:
                running[:] = [run for run, workers in ran_on({"first": first_log}, ids).items()
                              if workers and team.states([run])[run][0] == "RUNNING"]
                return bool(running)

            assert wait_for(first_runs, 300), first_log.read_text()[-3000:]
            killed = running[0]
            os.kill(first.pid, signal.SIGKILL)
            done = lambda: all(state[0] in ("COMPLETED", "FAILED", "CANCELLED")  # noqa: E731
                               for state in team.states(ids).values())
            assert wait_for(done, 600), (team.states(ids), second_log.read_text()[-3000:])
        states, workers = team.states(ids), ran_on({"first": first_log, "second": second_log}, ids)
    assert {run: state[0] for run, state in states.items()} == dict.fromkeys(ids, "COMPLETED"), states
    assert states[killed][2] == 2 and workers[killed] == ["first", "second"], (states, workers)
    assert all(len(workers[run]) == 1 and states[run][2] == 1 for run in ids if run != killed), (states, workers)
