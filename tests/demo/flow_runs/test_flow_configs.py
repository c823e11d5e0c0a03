"""Every demo category reads its config at run time: parameter, else Prefect Variable, else YAML file."""

from __future__ import annotations

import shutil

import pandas as pd
import pytest
from prefect.variables import Variable

from airnub.orchestration.config import ConfigError, config_file, load_config, read_config_file
from airnub.testing.helpers import BILLION_LAUGHS, PROJECT_ROOT
from airnub_prefect_starter.data_science.dataset_processing import load_bundled_wine
from flows.dept_demo.ingestion_flow_dept_demo import ingestion_flow_dept_demo
from flows.dept_demo.processing.cleaning.cleaning_flow_dept_demo import cleaning_flow_dept_demo
from flows.dept_demo.processing.features.features_flow_dept_demo import features_flow_dept_demo

pytestmark = pytest.mark.usefixtures("clean_variables")


def drop(paths, name: str, rows: int) -> None:
    paths.inbox.mkdir(parents=True, exist_ok=True)
    load_bundled_wine().head(rows).assign(alcohol=lambda f: f["alcohol"] + 0.7).to_csv(paths.inbox / name, index=False)


def test_parameter_beats_variable_beats_yaml_file():
    assert load_config("dept_demo", "analysis", "training")["test_size"] == 0.25  # the YAML file
    Variable.set("dept_demo__analysis__training", {"test_size": 0.3, "random_state": 1, "regularisation": 2.0})
    assert load_config("dept_demo", "analysis", "training")["test_size"] == 0.3
    overridden = load_config("dept_demo", "analysis", "training", overrides={"test_size": 0.1, "random_state": None})
    assert overridden == {"test_size": 0.1, "random_state": 1, "regularisation": 2.0}


def test_a_plan_reads_every_variable_at_once_and_sees_what_a_run_would():
    """`airnub run` and `--plan` read all Variables in one API call; a docs build reads the config files alone."""
    from airnub.orchestration.cache import all_variables, variables_read_at_once

    Variable.set("dept_demo__analysis__training", {"test_size": 0.3, "random_state": 1, "regularisation": 2.0})
    with variables_read_at_once(all_variables()):
        assert load_config("dept_demo", "analysis", "training")["test_size"] == 0.3, "the Variable, as a run reads it"
        features = config_file("dept_demo", "processing", "features")
        assert load_config("dept_demo", "processing", "features") == read_config_file(features), "no Variable: file"
    with variables_read_at_once({}):
        assert load_config("dept_demo", "analysis", "training")["test_size"] == 0.25, "the YAML file"


def test_a_variable_holding_a_string_is_refused_by_name():
    Variable.set("dept_demo__processing__features", '{"min_rows": 5}')
    with pytest.raises(ConfigError, match=r"'dept_demo__processing__features' holds a str, expected a mapping"):
        load_config("dept_demo", "processing", "features")


def test_inbox_pattern_from_the_variable_decides_which_files_are_ingested(project):
    drop(project, "harvest_east.csv", 5)
    drop(project, "scratch_notes.csv", 4)
    Variable.set("dept_demo__ingestion__inbox_csv", {"pattern": "harvest_*.csv"})
    result = ingestion_flow_dept_demo()
    assert result["inbox_csv"] == {"ingested": ["harvest_east.csv"], "skipped": [], "waiting": {}}
    assert (project.inbox / "scratch_notes.csv").exists()


def test_keep_existing_protects_a_curated_raw_file(project):
    project.raw.mkdir(parents=True)
    load_bundled_wine().head(50).to_csv(project.raw_dataset, index=False)
    curated = project.raw_dataset.read_bytes()
    Variable.set("dept_demo__ingestion__bundled_dataset", {"keep_existing": True})
    ingestion_flow_dept_demo(run_inbox_csv=False)
    assert project.raw_dataset.read_bytes() == curated
    Variable.unset("dept_demo__ingestion__bundled_dataset")  # back to the YAML file: keep_existing: false
    ingestion_flow_dept_demo(run_inbox_csv=False)
    assert len(pd.read_csv(project.raw_dataset)) == 178


def test_cleaning_can_leave_dropped_files_out_and_features_refuse_too_few_rows(project):
    drop(project, "harvest_west.csv", 8)
    ingestion_flow_dept_demo()
    assert cleaning_flow_dept_demo()["rows_out"] == 178 + 8
    assert cleaning_flow_dept_demo(include_dropped_files=False)["rows_out"] == 178
    Variable.set("dept_demo__processing__features", {"min_rows": 500})
    with pytest.raises(ValueError, match=r"wine_clean.parquet: 178 clean rows, fewer than min_rows = 500"):
        features_flow_dept_demo()
    assert not project.features.exists()


TRAINING_CONFIG = ("config dept_demo__analysis__training ", "config dept_demo__analysis__training:")


def test_each_flow_says_where_its_config_came_from_and_when_the_file_moved_on(project, caplog):
    from flows.dept_demo.analysis.training.training_flow_dept_demo import training_flow_dept_demo

    ingestion_flow_dept_demo()
    cleaning_flow_dept_demo()
    features_flow_dept_demo()
    training_flow_dept_demo(test_size=0.3)
    said = [r.getMessage() for r in caplog.records if r.getMessage().startswith(TRAINING_CONFIG)]
    assert said == ["config dept_demo__analysis__training from the file "
                    f"{project.root / 'configs/variables/dept_demo/analysis/training.yaml'} (no Variable "
                    "'dept_demo__analysis__training' on this server); from the flow's parameters: test_size"]
    caplog.clear()
    Variable.set("dept_demo__analysis__training", {"test_size": 0.4, "random_state": 1, "regularisation": 2.0})
    training_flow_dept_demo()
    said = [r.getMessage() for r in caplog.records if r.getMessage().startswith(TRAINING_CONFIG)]
    assert said[0].startswith("config dept_demo__analysis__training: the Variable differs from ") and \
        "edited since the last sync; using the Variable (`airnub variables sync` stores the file)" in said[0]
    assert said[1] == "config dept_demo__analysis__training from the Prefect Variable 'dept_demo__analysis__training'"


@pytest.mark.parametrize("text", [BILLION_LAUGHS, "pattern: &p [*p]\n"], ids=["billion-laughs", "self-reference"])
def test_the_yaml_fallback_refuses_aliases_that_never_end_or_expand_without_bound(text, tmp_path, monkeypatch):
    """No Variable: the flow reads the YAML file, which must be refused before anything expands it."""
    for name in ("settings.ini", "pyproject.toml"):
        shutil.copy(PROJECT_ROOT / name, tmp_path)
    config = tmp_path / "configs" / "variables" / "dept_demo" / "ingestion" / "inbox_csv.yaml"
    config.parent.mkdir(parents=True)
    config.write_text(text)
    monkeypatch.setenv("AIRNUB_PROJECT_ROOT", str(tmp_path))
    with pytest.raises(ConfigError) as refused:
        load_config("dept_demo", "ingestion", "inbox_csv")
    assert str(refused.value).startswith(f"{config}:1: not valid YAML (")
    assert "more than the 10,000 a config may hold" in str(refused.value) or "never ends" in str(refused.value)
