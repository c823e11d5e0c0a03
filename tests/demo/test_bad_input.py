"""Bad input, met the way a user meets it: `airnub` ends with one `airnub: <what is wrong>` line and writes nothing.

Exit codes: 2 when the command cannot start (settings, notebook path), 1 when a run stopped on bad data or
files. Ingestion, processing and analysis run through `airnub.cli.main.execute` in this process (against the
session's project server, to spare a server start per case); the notebook and settings cases run the
`airnub` script itself. Covered elsewhere: a missing column or a non-numeric value in a dropped CSV
(tests/demo/flow_runs/test_ingestion_flow.py), an unknown department or stage and broken YAML in
configs/variables (tests/test_cli.py, tests/flows/test_variables_sync.py).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
import subprocess
from pathlib import Path

import pandas as pd
import pytest

from airnub.cli.main import execute
from airnub.testing.helpers import (
    AIRNUB,
    PROJECT_ROOT,
    airnub,
    output_overrides,
    own_notebooks_dir,
    seed_prefect_home,
    write_notebook,
)
from airnub_prefect_starter.data_science.dataset_processing import (
    MEASUREMENT_COLUMNS,
    TARGET_COLUMN,
    load_bundled_wine,
    synthetic_wine,
)
from airnub_prefect_starter.data_science.modeling.predict import ModelLoadError


@pytest.fixture(autouse=True)
def _on_the_session_server(prefect_api):
    """The flows and in-process commands of these tests run on the session's project server."""


def run_cli(capsys, *argv: str) -> tuple[int, str]:
    """Exit code and the last line on stderr of `airnub *argv`, run in this process."""
    code = execute(list(argv))  # in this process, on the session's server (as main() would)
    lines = capsys.readouterr().err.strip().splitlines()
    return code, lines[-1] if lines else ""


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under `folder` and its bytes, so a test can tell that nothing changed."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def trained_outputs(tmp_path_factory):
    """An output tree after ingestion, processing and training (no report): copied by each test that needs it."""
    from flows.dept_demo.analysis.training.training_flow_dept_demo import training_flow_dept_demo
    from flows.dept_demo.ingestion_flow_dept_demo import ingestion_flow_dept_demo
    from flows.dept_demo.processing_flow_dept_demo import processing_flow_dept_demo

    tree = tmp_path_factory.mktemp("trained")
    with pytest.MonkeyPatch.context() as patch:
        for name, value in output_overrides(tree).items():
            patch.setenv(name, value)
        ingestion_flow_dept_demo(), processing_flow_dept_demo(), training_flow_dept_demo()
    return tree


@pytest.fixture
def earlier_run(trained_outputs, project, tmp_path):
    """`project` (outputs under tmp_path) holding the outputs of an earlier good run."""
    for folder in (f for f in trained_outputs.iterdir() if f.is_dir()):
        shutil.copytree(folder, tmp_path / folder.name)
    return project


WINE_HEADER, WINE_ROW = load_bundled_wine().head(1).to_csv(index=False).splitlines()


def row_with(column: str, value: str) -> str:
    """WINE_ROW with the cell of `column` (its header in WINE_HEADER) set to `value`."""
    cells = WINE_ROW.split(",")
    cells[WINE_HEADER.split(",").index(column)] = value
    return ",".join(cells)


def bad_cell(column: str, value: str) -> bytes:
    return f"{WINE_HEADER}\n{WINE_ROW}\n{row_with(column, value)}\n".encode()


BAD_CSVS = {  # file content -> what the last line says after the file's path
    "ragged": (f"{WINE_HEADER}\n{WINE_ROW}\n{WINE_ROW},1,2\n".encode(),
               "malformed CSV (Expected 14 fields in line 3, saw 16)"),
    "broken_quote": (f'{WINE_HEADER}\n"{WINE_ROW}\n{WINE_ROW}\n'.encode(),
                     "malformed CSV (EOF inside string starting at row 1)"),
    "empty": (b"", "the file is empty"),
    "latin1": (f"{WINE_HEADER}\n{WINE_ROW}\n".replace("alcohol", "alcohol_\xe9").encode("latin-1"),
               "not UTF-8 text (byte 0xe9 on line 1); save it as UTF-8"),
    "extra_column": (f"{WINE_HEADER},notes\n{WINE_ROW},smoky\n".encode(),
                     "unexpected column(s) notes; expected exactly: "
                     f"{', '.join([*MEASUREMENT_COLUMNS, TARGET_COLUMN])}"),
    "infinity": (bad_cell("alcohol", "Infinity"), "column alcohol has non-finite value 'inf' in data row 2"),
    "minus_inf": (bad_cell("hue", "-INF"), "column hue has non-finite value '-inf' in data row 2"),
    "overflow": (bad_cell("proline", "1e999"), "column proline has non-finite value 'inf' in data row 2"),
    "absurd": (bad_cell("magnesium", "1e300"), "column magnesium has out-of-range value '1e+300' in data row 2"),
    "zero_hue": (bad_cell("hue", "0"), "column hue has value '0.0' in data row 2; it must be positive"),
    "clashing_headers": (f"{WINE_HEADER},Alcohol \n{WINE_ROW},1\n".encode(),
                         "headers 'alcohol' and 'Alcohol ' are the same column ('alcohol') after snake-casing"),
    "huge_field": (bad_cell("magnesium", "9" * 5_000_000 + "x"), "column magnesium has non-numeric value '999"),
}


@pytest.mark.parametrize("case", BAD_CSVS)
def test_a_bad_dropped_csv_stops_ingestion_and_changes_nothing(earlier_run, capsys, case):
    content, reason = BAD_CSVS[case]
    dropped = earlier_run.inbox / f"{case}.csv"
    before = snapshot(earlier_run.data_root)
    dropped.write_bytes(content)

    code, message = run_cli(capsys, "run", "demo", "--stage", "ingestion")
    assert code == 1
    assert message.startswith(f"airnub: {dropped}: {reason}"), message[:300]
    assert len(message) < 400, "a message quotes an excerpt of the data, not all of it"
    after = snapshot(earlier_run.data_root)
    after.pop(str(dropped.relative_to(earlier_run.data_root)))
    assert after == before, "raw/dropped, the manifest and the processed tables stay as they were"


def test_a_file_name_with_a_line_break_cannot_split_the_message(earlier_run, capsys):
    dropped = earlier_run.inbox / "harvest\nairnub: all good.csv"
    dropped.write_bytes(bad_cell("ash", "high"))
    code, message = run_cli(capsys, "run", "demo", "--stage", "ingestion")
    assert code == 1
    assert message == f"airnub: {str(dropped)!r}: column ash has non-numeric value 'high' in data row 2", message


def _link_outside(inbox: Path) -> str:
    outside = inbox.parent / "elsewhere.csv"
    outside.write_bytes(bad_cell("alcohol", "13.0"))  # a good file, but not in the inbox
    (inbox / "linked.csv").symlink_to(outside)
    return f"{inbox / 'linked.csv'}: a link to {outside}, outside the inbox; copy the file into the inbox instead"


def _device(inbox: Path) -> str:
    os.mknod(inbox / "null.csv", stat.S_IFCHR | 0o666, os.makedev(1, 3))  # /dev/null: reads as an empty file
    return f"{inbox / 'null.csv'}: not a regular file; only regular files are ingested"


def _too_large(inbox: Path) -> str:
    synthetic_wine(40).to_csv(inbox / "big.csv", index=False)  # a valid file of over 1 MB
    size = (inbox / "big.csv").stat().st_size / 2**20
    assert size > 1
    return f"{inbox / 'big.csv'}: {size:.1f} MB, larger than the 1 MB one file may hold (setting inbox_max_megabytes)"


@pytest.mark.parametrize("entry", [_link_outside, _device, _too_large], ids=["link-outside", "device", "too-large"])
def test_only_regular_files_of_the_inbox_within_the_size_limit_are_read(earlier_run, capsys, monkeypatch, entry):
    """A link to /dev/zero (refused like any link out of the inbox) would otherwise be read without end."""
    monkeypatch.setenv("AIRNUB_INBOX_MAX_MEGABYTES", "1")
    before = snapshot(earlier_run.data_root / "raw"), snapshot(earlier_run.processed)
    expected = entry(earlier_run.inbox)
    code, message = run_cli(capsys, "run", "demo", "--stage", "ingestion")
    assert (code, message) == (1, f"airnub: {expected}")
    assert (snapshot(earlier_run.data_root / "raw"), snapshot(earlier_run.processed)) == before


GOOD_DIGEST = "a" * 64
NOT_A_RECORD = "is not a record of source, raw_file and rows"
GOOD_RECORD = {"source": "a.csv", "raw_file": "a-aaaaaaaaaaaa.csv", "rows": 1, "ingested_at": "2026-01-01T00:00:00"}


@pytest.mark.parametrize(("manifest", "problem"), [
    ([], "the top level is a list, not a mapping"),
    ({"harvest.csv": "done"}, f"entry 'harvest.csv' {NOT_A_RECORD}"),
    ({GOOD_DIGEST: {**GOOD_RECORD, "raw_file": "../../../outside.csv"}}, f"entry '{GOOD_DIGEST}' {NOT_A_RECORD}"),
    ({GOOD_DIGEST: {**GOOD_RECORD, "rows": "1"}}, f"entry '{GOOD_DIGEST}' {NOT_A_RECORD}"),
], ids=["list", "wrong-shape", "path-in-raw-file", "rows-as-text"])
def test_a_manifest_of_the_wrong_shape_stops_ingestion_before_anything_is_copied(earlier_run, capsys, manifest,
                                                                                problem):
    earlier_run.ingest_manifest.write_text(json.dumps(manifest))
    (earlier_run.inbox / "harvest.csv").write_bytes(bad_cell("alcohol", "13.5"))
    before = snapshot(earlier_run.data_root)
    code, message = run_cli(capsys, "run", "demo", "--stage", "ingestion")
    assert (code, message) == (1, f"airnub: {earlier_run.ingest_manifest}: not a valid ingestion manifest "
                                  f"({problem}); restore it, or remove it to ingest the inbox again")
    assert snapshot(earlier_run.data_root) == before, "nothing copied"


def test_a_non_finite_value_in_an_earlier_raw_file_is_named_by_processing(earlier_run, capsys):
    """A raw file taken in before validation refused infinite values: processing names it and replaces nothing."""
    legacy = earlier_run.raw_dropped / "harvest-0123456789ab.csv"
    legacy.write_bytes(bad_cell("flavanoids", "inf"))
    before = snapshot(earlier_run.interim), snapshot(earlier_run.processed)
    code, message = run_cli(capsys, "run", "demo", "--stage", "processing")
    assert (code, message) == (1, f"airnub: {legacy}: column flavanoids has non-finite value 'inf' in data row 2")
    assert (snapshot(earlier_run.interim), snapshot(earlier_run.processed)) == before


def test_a_non_finite_feature_table_is_refused_by_training_naming_it(earlier_run, capsys):
    features = pd.read_parquet(earlier_run.features)
    features.loc[2, "alcohol"] = float("inf")
    features.to_parquet(earlier_run.features, index=False)
    before = snapshot(earlier_run.models)
    code, message = run_cli(capsys, "run", "demo", "--stage", "analysis")
    assert code == 1
    assert message.startswith(f"airnub: {earlier_run.features}: column alcohol has non-finite value inf in row 3; "
                              "no model can learn from it"), message
    assert snapshot(earlier_run.models) == before, "the model still matches the last good features"


@pytest.mark.parametrize(("stage", "needs", "run_first", "outputs"), [
    ("processing", "raw/wine.csv", "ingestion", ["interim", "processed"]),
    ("analysis", "processed/wine_features.parquet", "processing", ["models", "reports"]),
])
def test_a_stage_without_its_input_names_the_stage_to_run(project, capsys, stage, needs, run_first, outputs):
    code, message = run_cli(capsys, "run", "demo", "--stage", stage)
    assert code == 1
    assert message.startswith("airnub: ") and str(project.data_root / needs) in message, message
    assert message.endswith(f"run the {run_first} stage first"), message
    folders = {"interim": project.interim, "processed": project.processed, "models": project.models,
               "reports": project.reports}
    assert not any(snapshot(folders[name]) for name in outputs if folders[name].exists()), "nothing half-written"


def test_a_corrupted_model_is_named_before_the_evaluation(earlier_run):
    """Through the evaluation flow (a deployment, or the analysis stage with training off): `airnub run` retrains."""
    from flows.dept_demo.analysis.evaluation.evaluation_flow_dept_demo import evaluation_flow_dept_demo

    earlier_run.model.write_bytes(earlier_run.model.read_bytes()[:300])  # a copy cut short
    before = snapshot(earlier_run.data_root), snapshot(earlier_run.models)
    with pytest.raises(ModelLoadError) as refused:
        evaluation_flow_dept_demo()
    assert str(refused.value).startswith(f"{earlier_run.model}: cannot be loaded (")
    assert "retrain the model" in str(refused.value)
    assert (snapshot(earlier_run.data_root), snapshot(earlier_run.models)) == before, "nothing replaced or added"
    assert not earlier_run.predictions.exists()
    assert not snapshot(earlier_run.reports), "the report notebook never started"


@pytest.mark.parametrize("below", [False, True], ids=["is-a-file", "below-a-file"])
def test_a_data_root_that_cannot_be_a_folder_exits_2_naming_the_setting(capsys, tmp_path, monkeypatch, below):
    """`data_root` names a file (mkdir said 'File exists'), or a path through one: refused before anything runs."""
    occupied = tmp_path / "occupied"
    occupied.write_text("a file where a folder should be\n")
    data_root = occupied / "data" if below else occupied
    monkeypatch.setenv("AIRNUB_DATA_ROOT", str(data_root))
    code, message = run_cli(capsys, "run", "demo", "--stage", "ingestion")
    where = f"lies below the file {occupied}" if below else "is a file"
    assert (code, message) == (2, f"airnub: {PROJECT_ROOT / 'settings.ini'}: 'data_root' must name a folder, but "
                                  f"{data_root} {where} (from AIRNUB_DATA_ROOT)")
    assert occupied.read_text() == "a file where a folder should be\n"


def read_only(folder: Path, command: list[str]) -> list[str]:
    """`command`, run with `folder` read-only: chmod for a user; for root (whom chmod does not stop) a read-only
    bind mount in a mount namespace of the command's own, so nothing outside the command sees it."""
    if os.geteuid() != 0:
        folder.chmod(0o555)
        return command
    if shutil.which("unshare") is None or subprocess.run(["unshare", "-m", "true"], capture_output=True).returncode:
        pytest.skip("root without mount namespaces: no way to make a folder read-only for this test")
    return ["unshare", "-m", "sh", "-c", 'mount --bind -o ro "$0" "$0" && exec "$@"', str(folder), *command]


def test_a_read_only_reports_folder_stops_the_run_with_one_line_naming_it(subprocess_env, tmp_path, prefect_database):
    """Once an OSError traceback with no `airnub:` line: now exit 1, the folder and the setting named, nothing
    written (a read-only data folder is named the same way by the run's lock: tests of ensure_directories are
    in airnub/nbs/engine/00_settings.ipynb)."""
    subprocess_env.update(own_notebooks_dir(tmp_path / "nbs"))
    notebook = write_notebook(tmp_path / "nbs" / "square.ipynb", "side: int = 2", "print(side * side)")
    reports = tmp_path / "reports"
    reports.mkdir()
    # run inside the read-only mount: on Prefect's temporary server, not through the session's warm runner,
    # whose processes live outside this mount namespace
    inside = {**subprocess_env, "AIRNUB_SERVER_HOME": str(tmp_path / "no-server"), "AIRNUB_SERVER_AUTOSTART": "false",
              "PREFECT_HOME": str(seed_prefect_home(tmp_path / "temporary-server", prefect_database))}
    done = subprocess.run(read_only(reports, [str(AIRNUB), "notebook", str(notebook)]), cwd=PROJECT_ROOT,
                          env=inside, capture_output=True, text=True, timeout=300)
    verdicts = [line for line in done.stderr.splitlines() if line.startswith("airnub: ")]
    assert done.returncode == 1 and len(verdicts) == 1, done.stderr[-3000:]
    assert verdicts[0].startswith(f"airnub: {reports}: cannot create the run's report folder there ("), verdicts
    assert verdicts[0].endswith("choose a folder you can write (reports_dir in settings.ini, or AIRNUB_REPORTS_DIR)")
    assert "Traceback" not in done.stderr.split(verdicts[0])[1], "nothing after the verdict but the server's goodbye"
    assert not list(reports.iterdir()), "nothing written"


@pytest.fixture
def edited_project(tmp_path):
    """A copy of the project's settings.ini and pyproject.toml, for a test to edit."""
    copy = tmp_path / "project"
    copy.mkdir()
    for name in ("settings.ini", "pyproject.toml"):
        shutil.copy(PROJECT_ROOT / name, copy)
    return copy


@pytest.mark.parametrize(("variable", "value", "expected"), [
    ("AIRNUB_CELL_TIMEOUT_SECONDS", "ten", "'cell_timeout_seconds' must be a positive whole number of seconds, "
     "got 'ten' (from AIRNUB_CELL_TIMEOUT_SECONDS)"),
    ("AIRNUB_CELL_TIMEOUT_SECONDS", "²", "'cell_timeout_seconds' must be a positive whole number of seconds, "
     "got '²' (from AIRNUB_CELL_TIMEOUT_SECONDS)"),  # isdigit() says yes, int() refuses it
    ("AIRNUB_MAX_WORKERS", "１２",  # full-width digits: int() read them as 12
     "'max_workers' must be a positive whole number, got '１２' (from AIRNUB_MAX_WORKERS)"),
    ("AIRNUB_MAX_WORKERS", "two",
     "'max_workers' must be a positive whole number, got 'two' (from AIRNUB_MAX_WORKERS)"),
    ("AIRNUB_KERNEL_NAME", "no-such-kernel", "'kernel_name' 'no-such-kernel' is not an installed Jupyter kernel "
     "(from AIRNUB_KERNEL_NAME); run `make setup` to register the project kernel (installed: "),
    ("AIRNUB_NOTEBOOKS_DIR", "/", "'notebooks_dir' is /, outside the project"),
    ("cell_timeout_seconds", "ten", "'cell_timeout_seconds' must be a positive whole number of seconds, got 'ten' "
     "(or set AIRNUB_CELL_TIMEOUT_SECONDS)"),
    ("kernel_name", "python-2-kernel", "'kernel_name' 'python-2-kernel' is not an installed Jupyter kernel "
     "(or set AIRNUB_KERNEL_NAME); run `make setup`"),
    ("notebooks_dir", "..", "'notebooks_dir' is {parent}, outside the project {project} (or set AIRNUB_NOTEBOOKS_DIR); "
     "flows may run any notebook in it: keep it inside the project, or set allow_notebooks_outside_project = true"),
], ids=["timeout-text", "timeout-superscript", "workers-full-width", "workers-text", "kernel-env", "notebooks-root",
        "timeout-file", "kernel-file", "notebooks-parent-file"])
def test_a_bad_setting_exits_2_naming_the_key_before_anything_runs(subprocess_env, edited_project, tmp_path, variable,
                                                                   value, expected):
    settings = PROJECT_ROOT / "settings.ini"
    if variable.startswith("AIRNUB_"):
        subprocess_env[variable] = value
    else:  # an edited settings.ini
        settings = edited_project / "settings.ini"
        text, count = re.subn(rf"(?m)^{variable} = .*$", f"{variable} = {value}", settings.read_text())
        settings.write_text(text)
        assert count == 1
        subprocess_env["AIRNUB_PROJECT_ROOT"] = str(edited_project)
        expected = expected.format(parent=edited_project.parent, project=edited_project)
    done = airnub("run", "demo", env=subprocess_env)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.startswith(f"airnub: {settings}: {expected}") and done.stderr.count("\n") == 1, done.stderr
    assert not (tmp_path / "data").exists(), "nothing ran"


@pytest.mark.parametrize(("name", "content", "expected"), [
    ("missing.ipynb", None, "notebook not found"),
    ("notes.ipynb", "# notes, not a notebook\n", "not a Jupyter notebook (not JSON: Expecting value"),
    ("table.ipynb", '{"rows": [1, 2]}', "not a Jupyter notebook ("),
])
def test_a_missing_or_invalid_notebook_exits_2_naming_it(subprocess_env, tmp_path, name, content, expected):
    subprocess_env.update(own_notebooks_dir(tmp_path / "nbs"))
    notebook = tmp_path / "nbs" / name
    notebook.parent.mkdir()
    if content is not None:
        notebook.write_text(content)
    done = airnub("notebook", str(notebook), env=subprocess_env)
    assert done.returncode == 2 and done.stdout == "", done.stderr
    assert done.stderr.startswith(f"airnub: {notebook}: {expected}") and done.stderr.count("\n") == 1, done.stderr
    assert not (tmp_path / "reports").exists()

