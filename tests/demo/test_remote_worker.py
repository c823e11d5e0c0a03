"""From one machine to many: the demo's pipeline deployment runs on a worker that shares nothing with the checkout.

The checkout is a clone of a bare repository (served from a path, `file://`); `make deploy REPOSITORY=...` pins the
deployments to its HEAD. The worker plays another machine (airnub.testing.remote): an empty working folder, its own
HOME and venv (the deployed commit's wheels), no path into the checkout (its audit log stays empty), and only the
Prefect server and one storage folder (AIRNUB_STORAGE_ROOT) in common. The run completes, its outputs land in the
storage, and its report opens from the flow run's artifact in the Prefect UI (headless Chromium) through the reports
server that serves the storage root (`reports_url`), never a path on the worker's disk.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from airnub.engine.settings import load_settings
from airnub.testing.browser import CHROMIUM, browser_page, sign_in
from airnub.testing.helpers import PROJECT_ROOT, output_overrides
from airnub.testing.processes import background, make
from airnub.testing.remote import remote_env, remote_venv, worker_command

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


def git(*args: str, cwd: Path | None = None) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True, timeout=120).stdout


def report_artifact(env: dict) -> dict:
    """The markdown artifact that links the evaluation report."""
    done = subprocess.run([sys.executable, "-c", READ_ARTIFACTS], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    (artifact,) = [a for a in json.loads(done.stdout) if a["data"] and "model_evaluation.html" in a["data"]]
    return artifact


def test_the_pipeline_runs_on_a_worker_that_shares_only_storage_and_server(server, tmp_path):
    bare, checkout, storage, machine = (tmp_path / name for name in ("repo.git", "checkout", "storage", "machine"))
    git("clone", "--quiet", "--bare", str(PROJECT_ROOT), str(bare))
    git("clone", "--quiet", f"file://{bare}", str(checkout))
    (checkout / ".venv").symlink_to(PROJECT_ROOT / ".venv")  # the developer's venv; the worker has its own
    commit = git("rev-parse", "HEAD", cwd=checkout).strip()
    python = remote_venv(machine, PROJECT_ROOT, str(bare), commit)
    (machine / "work").mkdir()
    for name in output_overrides(tmp_path):  # every output below the one storage root the machines share
        server.env.pop(name, None)
    server.env["AIRNUB_STORAGE_ROOT"] = str(storage)
    pool = load_settings(PROJECT_ROOT).work_pool

    with server.start():
        reports_url = json.loads((server.home / "airnub-server.json").read_text())["reports_url"]
        dirty = checkout / "flows" / "uncommitted.py"
        dirty.write_text("# not committed\n")
        refused = make("deploy", f"REPOSITORY=file://{bare}", env=server.env, cwd=checkout)
        assert refused.returncode != 0 and "1 uncommitted change(s) the deployment would not carry " \
            "(flows/uncommitted.py)" in refused.stderr, refused.stdout + refused.stderr
        dirty.unlink()
        deployed = make("deploy", f"REPOSITORY=file://{bare}", env=server.env, cwd=checkout)
        assert deployed.returncode == 0, deployed.stdout + deployed.stderr
        assert f"workers run the code of file://{bare} at {commit[:12]}" in deployed.stdout

        env = remote_env(machine, python, [PROJECT_ROOT, checkout], PREFECT_API_URL=server.api_url,
                         PREFECT_API_AUTH_STRING=server.env["PREFECT_API_AUTH_STRING"],
                         AIRNUB_STORAGE_ROOT=str(storage), AIRNUB_REPORTS_URL=reports_url,
                         AIRNUB_INBOX_QUIET_SECONDS="0")
        log = tmp_path / "worker.log"
        with background(worker_command(python, pool), env, log, cwd=machine / "work"):
            run = subprocess.run([sys.executable, "-m", "prefect", "deployment", "run", PIPELINE, "--watch",
                                  "--watch-timeout", "600"], env=server.env, capture_output=True, text=True,
                                 timeout=660)
        assert run.returncode == 0 and "Completed" in run.stdout, run.stdout + run.stderr + log.read_text()[-4000:]
        artifact = report_artifact(server.env)
        link = re.search(r"\[model_evaluation\.html\]\((\S+)\)", artifact["data"]).group(1)
        assert link.startswith(f"{reports_url}/"), link
        with urllib.request.urlopen(link, timeout=30) as response:
            assert response.status == 200 and b"<html" in response.read(2000).lower()
        if CHROMIUM:
            opened_from_the_ui(server, artifact, link)

    audit = machine / "audit.log"
    assert not audit.exists(), f"the worker touched the checkout:\n{audit.read_text()[:3000]}"
    assert list((machine / "work").iterdir()) == [], "the worker's folder stays empty: runs clone elsewhere"
    assert sorted(storage.glob("reports/**/model_evaluation.html")) and any((storage / "models").rglob("*"))
    assert git("status", "--porcelain", "--ignored", cwd=checkout).strip() == "!! .venv", "the checkout is untouched"


def opened_from_the_ui(server, artifact: dict, link: str) -> None:
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
        assert shown.url == link and "model_evaluation" in shown.content()
