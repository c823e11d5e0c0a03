"""A cached function task runs again when its own code, a file it opened or a Variable it read changed, saying
which; an edit to a module it does not import leaves it cached."""

from __future__ import annotations

import importlib
import sys
import uuid

import pytest
from prefect import flow
from prefect.variables import Variable

from airnub.testing.helpers import PROJECT_ROOT

STEPS = '''
from pathlib import Path

from prefect import task

from airnub.engine.settings import load_settings
from airnub.orchestration.cache import cached
from airnub.orchestration.config import load_config
import trainer_{tag} as trainer


@task
@cached(outputs=("out",))
def score_step(source: Path, out: Path) -> int:
    value = trainer.score(int(source.read_text()))
    out.write_text(str(value))
    return value


@task
@cached(outputs=("out",))
def configured_step(out: Path) -> int:
    value = load_config("dept_probe", "stage", "step_{tag}")["factor"]
    out.write_text(str(value))
    return value


@task
@cached(outputs=("out",))
def lookup_step(out: Path) -> int:
    value = int((load_settings().paths.data_root / "lookup.txt").read_text())  # a file no argument names
    out.write_text(str(value))
    return value
'''


@pytest.fixture
def steps(tmp_path, monkeypatch, project):
    """A module of cached tasks importing a trainer module, both of the test's own."""
    tag = uuid.uuid4().hex[:8]
    code = tmp_path / "code"
    code.mkdir()
    (code / f"trainer_{tag}.py").write_text("def score(x):\n    return x * 2\n")
    (code / f"steps_{tag}.py").write_text(STEPS.format(tag=tag))
    monkeypatch.syspath_prepend(str(code))
    yield importlib.import_module(f"steps_{tag}"), code, tag
    for name in (f"steps_{tag}", f"trainer_{tag}"):
        sys.modules.pop(name, None)


def said(caplog, step: str) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.getMessage().startswith(f"{step}: ")]


def test_only_an_edit_to_a_module_the_task_imports_makes_it_run(steps, tmp_path, caplog):
    module, code, tag = steps
    source, out = tmp_path / "in.txt", tmp_path / "out.txt"
    source.write_text("3")

    @flow
    def pipeline() -> int:
        return module.score_step(source, out)

    assert pipeline() == 6
    first, written = said(caplog, "score_step"), out.stat().st_mtime_ns  # the step rewrites `out` when it runs
    unrelated = PROJECT_ROOT / "airnub_prefect_starter" / f"_unrelated_{tag}.py"  # a module no step imports
    unrelated.write_text("X = 1\n")
    try:
        caplog.clear()
        assert pipeline() == 6 and out.stat().st_mtime_ns == written, "an unrelated edit leaves the step cached"
        cached = said(caplog, "score_step")
    finally:
        unrelated.unlink()
    (code / f"trainer_{tag}.py").write_text("def score(x):\n    return x * 3\n")
    importlib.reload(sys.modules[f"trainer_{tag}"])  # as the next command's process imports it afresh
    caplog.clear()
    assert pipeline() == 9, "an edit to the module it imports makes it run"
    assert first == ["score_step: ran: never ran before"]
    assert cached == ["score_step: served from the cache: nothing it depends on changed"]
    assert said(caplog, "score_step") == [f"score_step: ran: module trainer_{tag} changed"]


def test_a_variable_or_a_file_the_task_read_by_itself_makes_it_run(steps, project, tmp_path, caplog,
                                                                    clean_variables):
    module, _, tag = steps
    name = f"dept_probe__stage__step_{tag}"
    Variable.set(name, {"factor": 2})
    lookup = project.data_root / "lookup.txt"
    lookup.parent.mkdir(parents=True, exist_ok=True)
    lookup.write_text("7")

    @flow
    def pipeline() -> tuple[int, int]:
        return module.configured_step(tmp_path / "configured.txt"), module.lookup_step(tmp_path / "lookup.txt")

    assert pipeline() == (2, 7)
    caplog.clear()
    assert pipeline() == (2, 7)
    cached = said(caplog, "configured_step") + said(caplog, "lookup_step")
    Variable.set(name, {"factor": 5}, overwrite=True)
    lookup.write_text("8")
    caplog.clear()
    assert pipeline() == (5, 8)
    assert cached == ["configured_step: served from the cache: nothing it depends on changed",
                      "lookup_step: served from the cache: nothing it depends on changed"]
    assert said(caplog, "configured_step") == [f"configured_step: ran: Variable {name} changed"]
    assert said(caplog, "lookup_step") == [f"lookup_step: ran: {lookup} changed"]
