"""`airnub variables sync`: one Variable per YAML file, stored as a mapping; a bad file changes nothing."""

from __future__ import annotations

import pytest
from prefect.variables import Variable

from airnub.orchestration.config import ConfigError
from airnub.orchestration.variables_sync import describe, plan_sync, sync_variables
from airnub.testing.helpers import BILLION_LAUGHS, write_variables

TRAINING = "dept_ops__analysis__training"


@pytest.fixture
def tree(tmp_path, clean_variables):
    """A configs/variables/ tree of the test's own to edit (a department's Variables)."""
    return write_variables(tmp_path / "variables")


def test_one_variable_per_file_named_from_its_path_and_stored_as_a_mapping(tree):
    plan = sync_variables(tree)
    files = sorted(tree.rglob("*.yaml"))
    assert sorted(item.file for item in plan) == files
    assert {item.action for item in plan} == {"create"}
    assert "dept_ops__analysis__training__notify_webhook" in {item.name for item in plan}
    assert Variable.get(TRAINING) == {"test_size": 0.25, "random_state": 42, "regularisation": 1.0}
    again = sync_variables(tree)
    assert {item.action for item in again} == {"unchanged"}
    assert describe(again, tree, dry_run=False).endswith(f"{len(files)} Variable(s): 0 created, 0 updated, "
                                                          f"{len(files)} unchanged")


def test_dry_run_lists_what_would_change_and_writes_nothing(tree):
    sync_variables(tree)
    (tree / "dept_ops" / "analysis" / "training.yaml").write_text("test_size: 0.3\nrandom_state: 7\n")
    (tree / "dept_ops" / "analysis" / "monitoring.yaml").write_text("drift_threshold: 0.2\n")
    plan = sync_variables(tree, dry_run=True)
    text = describe(plan, tree, dry_run=True)
    assert "would update  dept_ops__analysis__training  (dept_ops/analysis/training.yaml)" in text
    assert "would create  dept_ops__analysis__monitoring" in text
    assert Variable.get(TRAINING)["test_size"] == 0.25
    assert Variable.get("dept_ops__analysis__monitoring") is None
    sync_variables(tree)
    assert Variable.get(TRAINING) == {"test_size": 0.3, "random_state": 7}


def _broken_yaml(path):
    path.write_text("pattern: '*.csv'\nkeep: [a, b\nother: 1\n")


def _not_a_mapping(path):
    path.write_text("- test_size\n- 0.25\n")


def _not_utf8(path):
    path.write_bytes(b"title: caf\xe9\n")


def _dangling_link(path):
    path.unlink()
    path.symlink_to(path.with_name("gone.yaml"))


def _empty(path):
    path.write_text("# nothing here yet\n")


def _yaml11_key(text):
    return lambda path: path.write_text(f"pattern: '*.csv'\n{text}\n")


@pytest.mark.parametrize(("damage", "expected"), [
    (_broken_yaml, "inbox_csv.yaml:3: not valid YAML"),
    (_not_a_mapping, "inbox_csv.yaml:1: the top level must be a non-empty mapping of `key: value` lines, got a list"),
    (_not_utf8, "inbox_csv.yaml: cannot be read"),
    (_dangling_link, "inbox_csv.yaml: cannot be read"),
    (_empty, "inbox_csv.yaml:1: the top level must be a non-empty mapping of `key: value` lines, got nothing"),
    # YAML 1.1 reads these keys as booleans or numbers, which Prefect refuses (a pydantic traceback once,
    # after the Variables of earlier files had been written)
    (_yaml11_key("on: true"), "inbox_csv.yaml: a key is read as the boolean True"),
    (_yaml11_key("checks:\n  yes: 1"), "inbox_csv.yaml: a key in checks is read as the boolean True"),
    (_yaml11_key("1: first"), "inbox_csv.yaml: key 1 is not text (YAML reads it as int)"),
    (_yaml11_key("2026-01-01: new year"), "inbox_csv.yaml: key datetime.date(2026, 1, 1) is not text"),
    (_yaml11_key("~: nothing"), "inbox_csv.yaml: key None is not text"),
    (_yaml11_key("since: 2026-01-01"), "inbox_csv.yaml: since is a date ('2026-01-01')"),
    (_yaml11_key("threshold: .nan"), "inbox_csv.yaml: threshold is nan, which JSON cannot hold"),
    (_yaml11_key("loop: &a [1, *a]"), "inbox_csv.yaml:2: not valid YAML (an alias refers to a node that holds it"),
    (_yaml11_key("notes: " + "x" * 5000), "characters as JSON; a Prefect Variable holds at most 5000"),
], ids=["broken-yaml", "not-a-mapping", "not-utf8", "dangling-link", "empty", "on-key", "nested-yes-key", "int-key",
        "date-key", "null-key", "date-value", "nan-value", "self-alias", "too-long"])
def test_a_bad_file_stops_the_sync_naming_it_and_nothing_is_written(tree, damage, expected):
    sync_variables(tree)
    (tree / "dept_ops" / "analysis" / "training.yaml").write_text("test_size: 0.4\n")  # a pending update
    (tree / "dept_ops" / "analysis" / "monitoring.yaml").write_text("drift_threshold: 0.2\n")  # a pending create
    damage(tree / "dept_ops" / "ingestion" / "inbox_csv.yaml")
    with pytest.raises(ConfigError) as dry_run:
        sync_variables(tree, dry_run=True)
    with pytest.raises(ConfigError) as refused:
        sync_variables(tree)
    assert expected in str(refused.value)
    assert str(dry_run.value) == str(refused.value), "--dry-run reports the same refusal"
    assert str(tree / "dept_ops" / "ingestion" / "inbox_csv.yaml") in str(refused.value)
    assert Variable.get(TRAINING)["test_size"] == 0.25, "no Variable was updated"
    assert Variable.get("dept_ops__analysis__monitoring") is None, "no Variable was created"


def test_a_file_name_that_cannot_become_a_variable_is_refused(tree):
    (tree / "dept_ops" / "analysis" / "Model Report.yaml").write_text("title: x\n")
    with pytest.raises(ConfigError, match=r"Model Report.yaml: cannot become a Prefect Variable"):
        plan_sync(tree)
    assert Variable.get(TRAINING) is None


def test_an_alias_bomb_or_an_endless_file_is_refused_before_it_is_expanded(tree):
    """A few hundred bytes of nested aliases (billion laughs), or a link to a device that never ends."""
    bomb = tree / "dept_ops" / "ingestion" / "inbox_csv.yaml"
    bomb.write_text(BILLION_LAUGHS)
    with pytest.raises(ConfigError, match="aliases expand it to 490,329,064 values, more than the 10,000"):
        sync_variables(tree)
    bomb.unlink()
    bomb.symlink_to("/dev/zero")
    with pytest.raises(ConfigError, match="inbox_csv.yaml: not a regular file"):
        sync_variables(tree)
    assert Variable.get(TRAINING) is None, "no Variable was written"


def test_prefects_own_validation_runs_on_every_file_before_the_first_write(tree, monkeypatch):
    """A value the file checks let through (here: with them switched off) is still refused before any write."""
    from airnub.orchestration import config

    sync_variables(tree)
    (tree / "dept_ops" / "analysis" / "training.yaml").write_text("test_size: 0.4\n")  # a pending update
    (tree / "dept_ops" / "ingestion" / "inbox_csv.yaml").write_text("pattern: '*.csv'\non: true\n")
    monkeypatch.setattr(config, "check_plain", lambda value, path: None)
    with pytest.raises(ConfigError, match=r"inbox_csv.yaml: Prefect refuses it as Variable "
                                          r"'dept_ops__ingestion__inbox_csv' \(value: .*serializable to JSON\)"):
        sync_variables(tree, dry_run=True)
    with pytest.raises(ConfigError, match=r"inbox_csv.yaml: Prefect refuses it"):
        sync_variables(tree)
    assert Variable.get(TRAINING)["test_size"] == 0.25, "no Variable was updated"
