"""`airnub run demo --plan`: every step, would run and why or served from the cache, with no flow run; a run with
nothing to do is one flow run (issue 20, items 5 and 6)."""

from __future__ import annotations

import base64

import httpx

from airnub.testing.helpers import airnub

# the demo's steps that a run serves from the cache when nothing they depend on changed
CACHED_STEPS = ("clean-raw-files", "build-feature-table", "train-model", "score-features",
                "run-notebook-model_evaluation")
INGEST = "ingest-bundled-dataset"  # not cached (its result says whether this run wrote): it checks the raw file


def flow_runs(env: dict) -> int:
    """How many flow runs the session's server holds."""
    auth = base64.b64encode(env["PREFECT_API_AUTH_STRING"].encode()).decode()
    answer = httpx.post(f"http://127.0.0.1:{env['AIRNUB_SERVER_PORT']}/api/flow_runs/count", json={},
                        headers={"Authorization": f"Basic {auth}"}, timeout=30)
    answer.raise_for_status()
    return answer.json()


def plan(env: dict) -> tuple[str, dict[str, str]]:
    """`airnub run demo --plan`: its first line, and each step's verdict by the step's name."""
    done = airnub("run", "demo", "--plan", env=env)
    assert done.returncode == 0, done.stderr
    head, *lines = done.stdout.strip().splitlines()
    return head, {line.strip().split(": ", 1)[0].rsplit(" / ", 1)[-1]: line.split(": ", 1)[1] for line in lines}


def test_plan_before_and_after_a_run_and_after_an_edit(subprocess_env, tmp_path):
    before = flow_runs(subprocess_env)
    head, steps = plan(subprocess_env)
    assert head.startswith("plan of pipeline-dept-demo: ") and set(CACHED_STEPS) <= set(steps), steps
    assert {steps[step] for step in CACHED_STEPS} == {"would run: never ran before"}, steps
    assert steps[INGEST] == f"would run: {tmp_path / 'data' / 'raw' / 'wine.csv'} does not exist yet", steps
    assert not (tmp_path / "data" / "raw" / "wine.csv").exists()
    assert not (tmp_path / "reports" / "model_evaluation").exists()
    assert flow_runs(subprocess_env) == before, "a plan creates no flow run"

    first = airnub("run", "demo", env=subprocess_env)
    assert first.returncode == 0, first.stderr
    head, steps = plan(subprocess_env)
    assert "nothing to do" in head and not [s for s, verdict in steps.items() if verdict.startswith("would run")], steps
    assert {steps[step] for step in CACHED_STEPS} == {"served from the cache"}, steps
    assert steps[INGEST] == "nothing to do: nothing new", steps

    counted = flow_runs(subprocess_env)
    again = airnub("run", "demo", env=subprocess_env)
    assert again.returncode == 0 and again.stdout.startswith("pipeline-dept-demo: completed in "), again.stderr
    assert "written: nothing" in again.stdout and "report: " in again.stdout, again.stdout
    assert flow_runs(subprocess_env) == counted + 1, "nothing to do: one flow run, no nested ones"

    card = tmp_path / "models" / "wine_classifier.json"  # training's output, read by scoring and the report
    card.write_text(card.read_text() + "\n")
    head, steps = plan(subprocess_env)
    running = {step for step in CACHED_STEPS if steps[step].startswith("would run")}
    assert running == {"train-model", "score-features", "run-notebook-model_evaluation"}, steps
    assert steps["train-model"].startswith("would run: its output ") and "wine_classifier.json changed" in steps[
        "train-model"], steps
    # its own reason first (the card it reads changed); a step with no own reason names the step before it that runs
    assert steps["score-features"] == "would run: argument card_file changed", steps
    assert steps["run-notebook-model_evaluation"].endswith("wine_classifier.json changed"), steps
