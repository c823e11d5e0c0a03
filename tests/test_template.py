"""This repository as a Copier template: a project made from it without the demo, then updated from it.

End to end with the real `copier`, on a clone of this repository's last commit (what CI tests). The generated
project reuses this .venv instead of building its own: PYTHONPATH and the working folder point at the project,
and its kernel is registered in a temporary JUPYTER_PATH.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from airnub.testing.helpers import PROJECT_ROOT, seed_prefect_home

BIN = Path(sys.executable).parent
NAMES = {"project_name": "Harbour Analytics", "package_name": "harbour_analytics", "with_demo": "false"}
OLD_NAMES = ("airnub_prefect_starter", "airnub-prefect-starter", "airnub-process-pool")
GIT_IDENTITY = {"GIT_AUTHOR_NAME": "Test", "GIT_AUTHOR_EMAIL": "test@example.invalid",
                "GIT_COMMITTER_NAME": "Test", "GIT_COMMITTER_EMAIL": "test@example.invalid"}

if not (PROJECT_ROOT / "copier.yml").is_file() or not (PROJECT_ROOT / ".git").exists():
    pytest.skip("not the template's own git checkout", allow_module_level=True)
_spec = importlib.util.spec_from_file_location("rename_project", PROJECT_ROOT / "scripts" / "rename_project.py")
rename_project = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(rename_project)


def run(command: list, cwd: Path, env: dict, timeout: int = 300) -> subprocess.CompletedProcess:
    """Run `command`; fail the test with its output when it fails."""
    done = subprocess.run([str(part) for part in command], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=timeout)
    assert done.returncode == 0, f"{' '.join(map(str, command))}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done


def tool(path: str) -> bool:
    """Whether `path` (relative to a project) is in the tool's folder, which every project has unchanged."""
    return path.startswith("airnub/")


def tool_files() -> dict[str, str]:
    """The tool's committed text files in this repository, by path relative to it (what a project copies)."""
    listed = subprocess.run(["git", "ls-files", "airnub"], cwd=PROJECT_ROOT, capture_output=True, text=True).stdout
    return {name: (PROJECT_ROOT / name).read_text() for name in listed.split()}


def text_files(root: Path) -> dict[str, str]:
    """Every text file of the project (outputs, caches and version control aside), by relative path."""
    found = {}
    for path in root.rglob("*"):
        relative = path.relative_to(root)
        skipped = {".git", "__pycache__", "data", ".prefect"} & set(relative.parts)
        if path.is_file() and not skipped and path.name != ".copier-answers.yml":  # it holds the template's address
            data = path.read_bytes()
            if b"\0" not in data:
                found[relative.as_posix()] = data.decode("utf-8", errors="replace")
    return found


def test_the_renamer_rewrites_text_files_once_and_leaves_the_rest(tmp_path):
    notebook = {"cells": [{"cell_type": "markdown", "source": ["# airnub-prefect-starter\n", "more"]}],
                "metadata": {"kernelspec": {"name": "airnub-prefect-starter"}}}
    files = {"README.md": "# airnub-prefect-starter\n\n`import airnub_prefect_starter`; `airnub run demo`\n",
             "nbs/index.ipynb": json.dumps(notebook), "settings.ini": "work_pool = airnub-process-pool\n",
             "airnub_prefect_starter/core/x.py": "from airnub_prefect_starter.core import y\n",
             ".copier-answers.yml": "_src_path: /src/airnub-prefect-starter\n",
             ".venv/lib/airnub_prefect_starter.pth": "/src/airnub_prefect_starter\n",
             "data/raw/names.csv": "airnub_prefect_starter\n"}
    for relative, text in files.items():
        (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / relative).write_text(text)
    (tmp_path / "model.bin").write_bytes(b"\0airnub_prefect_starter")
    names = ["--root", str(tmp_path), "--project-name", "Ça & Co", "--package-name", "ca_co"]
    assert rename_project.main(names) == 0
    assert (tmp_path / "README.md").read_text() == "# Ça & Co\n\n`import ca_co`; `airnub run demo`\n"
    renamed = json.loads((tmp_path / "nbs/index.ipynb").read_text())
    assert renamed["cells"][0]["source"][0] == "# Ça & Co\n" and renamed["metadata"]["kernelspec"]["name"] == "a-co"
    assert (tmp_path / "settings.ini").read_text() == "work_pool = a-co-process-pool\n"
    assert (tmp_path / "ca_co/core/x.py").read_text() == "from ca_co.core import y\n"
    assert not (tmp_path / "airnub_prefect_starter").exists()
    for relative in (".copier-answers.yml", ".venv/lib/airnub_prefect_starter.pth", "data/raw/names.csv"):
        assert (tmp_path / relative).read_text() == files[relative], relative
    assert (tmp_path / "model.bin").read_bytes() == b"\0airnub_prefect_starter"
    before = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    assert rename_project.main(names) == 0
    assert {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()} == before, "a second run changes nothing"


@pytest.mark.parametrize("name", ["Harbour", "harbour-analytics", "2harbour", "class", "flows", "json", "prefect"])
def test_the_renamer_refuses_a_package_name_python_cannot_import(name, tmp_path, capsys):
    assert rename_project.main(["--root", str(tmp_path), "--project-name", "X", "--package-name", name]) == 2
    assert "package name" in capsys.readouterr().err


def test_the_reserved_package_names_are_what_their_script_writes_for_these_dependencies():
    """Keywords, the standard library, every import name the dependencies install, the project's folders."""
    spec = importlib.util.spec_from_file_location("reserved", PROJECT_ROOT / "scripts" / "reserved_package_names.py")
    reserved = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(reserved)
    assert reserved.LISTED.read_text() == reserved.listing(), "run scripts/reserved_package_names.py and commit"
    names = rename_project.reserved_package_names()
    assert {"class", "json", "typing", "prefect", "yaml", "pandas", "sklearn", "flows"} <= names.keys()
    assert "harbour_analytics" not in names and "airnub_prefect_starter" not in names


def test_without_the_demo_no_deployment_is_left_and_the_definitions_stay():
    pools = {"prefect.local.yaml": "local_process", "prefect.docker.yaml": "docker",
             "prefect.kubernetes.yaml": "kubernetes"}
    assert set(pools) == set(rename_project.DEPLOYMENTS_FILES)
    for file, pool in pools.items():
        trimmed = rename_project.without_demo_deployments((PROJECT_ROOT / file).read_text())
        assert "dept_demo" not in trimmed and trimmed.endswith("deployments: []\n"), file
        assert f"{pool}: &{pool}" in trimmed and "daily_morning: &daily_morning" in trimmed, file


def test_without_the_demo_its_sections_go_and_what_replaces_them_shows():
    text = ("Intro.\n<!-- demo -->\n```bash\nmake run\n```\n<!-- /demo -->\n"
            "<!-- no-demo\n```bash\nmake test\n```\n-->\n"
            "| `input_table` | <!-- demo -->`wine.parquet`<!-- /demo --><!-- no-demo (empty)--> |\nEnd.\n")
    trimmed = rename_project.without_demo_sections(text)
    assert trimmed == "Intro.\n```bash\nmake test\n```\n| `input_table` | (empty) |\nEnd.\n"
    assert rename_project.without_demo_sections(trimmed) == trimmed
    makefile = rename_project.without_bench((PROJECT_ROOT / "Makefile").read_text())
    assert "bench" not in makefile and "\nlint: setup ##" in makefile, "make bench goes, and only it"


def test_every_project_readme_speaks_of_the_project_not_of_the_template():
    text = ("A <!-- template -->template<!-- /template --><!-- project project--> for teams.\n"
            "<!-- template -->\n## Start your own project\n`copier copy`\n<!-- /template -->\n"
            "<!-- project\n## Updates from the template\n`copier update`\n-->\nEnd.\n")
    made = rename_project.project_sections(text)
    assert made == "A project for teams.\n## Updates from the template\n`copier update`\nEnd.\n"
    assert rename_project.project_sections(made) == made
    readme = rename_project.project_sections((PROJECT_ROOT / "README.md").read_text())
    assert "copier copy" not in readme and "is also a [Copier]" not in readme and "<!-- project" not in readme


def test_the_demo_left_out_is_the_demo_scripts_demo_paths_txt_lists():
    """copier.yml's with_demo=false block and scripts/demo_paths.txt (the manual way) name the same paths."""
    block = (PROJECT_ROOT / "copier.yml").read_text().split("{% if not with_demo -%}")[1].split("{%- endif %}")[0]
    listed = [line.strip() for line in (PROJECT_ROOT / "scripts" / "demo_paths.txt").read_text().splitlines()
              if line.strip() and not line.startswith("#")]
    assert block.split() == listed
    assert all(list(PROJECT_ROOT.glob(path)) for path in listed), "every demo path names something"


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    """A clone of this repository at its last commit: the template as CI and users get it."""
    clone = tmp_path_factory.mktemp("template") / "airnub-prefect-starter"
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=PROJECT_ROOT, capture_output=True, text=True,
                          check=True).stdout.strip()
    env = {**os.environ, **GIT_IDENTITY}
    run(["git", "clone", "--quiet", PROJECT_ROOT, clone], PROJECT_ROOT, env)
    run(["git", "checkout", "--quiet", head], clone, env)
    return clone


def make_project(template: Path, tmp_path_factory, prefect_database: Path, with_demo: bool = False
                 ) -> tuple[Path, dict]:
    """`(root, env)`: a project made from the template (without the demo unless asked), and the environment its
    commands run in."""
    root = tmp_path_factory.mktemp("generated") / "harbour-analytics"
    answers = {**NAMES, "with_demo": str(with_demo).lower()}
    data = [item for name, value in answers.items() for item in ("--data", f"{name}={value}")]
    run([BIN / "copier", "copy", "--trust", "--defaults", "--vcs-ref", "HEAD", *data, template, root], template,
        {**os.environ, **GIT_IDENTITY})
    jupyter = tmp_path_factory.mktemp("jupyter")
    prefect_home = seed_prefect_home(tmp_path_factory.mktemp("prefect"), prefect_database)
    env = {name: value for name, value in os.environ.items() if not name.startswith(("AIRNUB_", "PREFECT_API_"))}
    env.update(GIT_IDENTITY, PYTHONPATH=f"{root / 'airnub' / 'src'}{os.pathsep}{root}",  # its tool, its package
               AIRNUB_PROJECT_ROOT=str(root), AIRNUB_SERVER_AUTOSTART="false",
               JUPYTER_PATH=str(jupyter / "share" / "jupyter"), PREFECT_HOME=str(prefect_home),
               PREFECT_SERVER_ANALYTICS_ENABLED="false", PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS="120",
               PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    run([sys.executable, "-m", "ipykernel", "install", "--prefix", jupyter, "--name", "harbour-analytics"], root, env)
    return root, env


@pytest.fixture(scope="module")
def generated(template, tmp_path_factory, prefect_database) -> tuple[Path, dict]:
    """`(root, env)`: a project made from the template without the demo, shared by the tests below."""
    return make_project(template, tmp_path_factory, prefect_database)


def borrow_venv(root: Path, env: dict) -> None:
    """Give the project a `.venv` that `make` takes as set up, without installing anything (minutes): links to this
    one's interpreter, programs and packages, stamped as installed and exported, with the project kernel registered."""
    venv, ours = root / ".venv", BIN.parent
    for name in ("bin", "lib", "include", "pyvenv.cfg"):
        (venv / name).parent.mkdir(parents=True, exist_ok=True)
        (venv / name).symlink_to(ours / name)
    kernel = Path("share", "jupyter", "kernels", "harbour-analytics", "kernel.json")
    (venv / kernel).parent.mkdir(parents=True)
    for shared in [*(ours / "share").iterdir(), *(ours / "share" / "jupyter").iterdir()]:  # nbconvert's templates...
        if shared.name not in ("jupyter", "kernels"):
            (venv / shared.relative_to(ours)).symlink_to(shared)
    shutil.copyfile(Path(env["JUPYTER_PATH"]).parent.parent / kernel, venv / kernel)
    installed = (root / "pyproject.toml").read_bytes() + (root / "airnub" / "pyproject.toml").read_bytes()
    for stamp in (f".installed-{hashlib.sha256(installed).hexdigest()[:16]}", ".exported"):  # as the Makefile names it
        (venv / stamp).touch()
    planned = make(root, env, "-n", "setup")  # the links lead to this checkout's .venv: nothing may install into it
    assert planned.returncode == 0 and "pip install" not in planned.stdout, planned.stdout + planned.stderr


def make(root: Path, env: dict, *arguments: str, timeout: int = 600) -> subprocess.CompletedProcess:
    """`make ARGUMENTS` in the project, as its README says to type it."""
    return subprocess.run(["make", "--no-print-directory", *arguments], cwd=root, env=env, capture_output=True,
                          text=True, timeout=timeout)


@pytest.mark.parametrize(("answer", "reason"), [
    ("package_name=json", "json is a module of Python's standard library, so a package of that name would break"),
    ("package_name=typing", "typing is a module of Python's standard library"),
    ("package_name=prefect", "prefect is the import name of prefect, a dependency"),
    ("package_name=yaml", "yaml is the import name of PyYAML, a dependency"),
    ("package_name=class", "class is a Python keyword"),
    ("package_name=flows", "flows is a folder of the project"),
    ("project_name=-Harbour", "a name starting with '-' is read as an option"),
    ("project_name=Harbour\rAnalytics", "expected a name with a letter or digit and no quotes, backslashes or control"),
    ("project_name=Harbour\tAnalytics", "expected a name with a letter or digit and no quotes, backslashes or control"),
])
def test_copier_refuses_an_answer_that_would_break_the_project_and_says_why(template, tmp_path, answer, reason):
    names = {**NAMES, "package_name": "harbour_analytics"}
    names[answer.split("=")[0]] = answer.split("=", 1)[1]
    data = [item for name, value in names.items() for item in ("--data", f"{name}={value}")]
    done = subprocess.run([BIN / "copier", "copy", "--trust", "--defaults", "--pretend", "--vcs-ref", "HEAD", *data,
                           template, tmp_path / "project"], cwd=template, env={**os.environ, **GIT_IDENTITY},
                          capture_output=True, text=True, timeout=120)
    assert done.returncode != 0 and f"Validation error for question '{answer.split('=')[0]}': {reason}" in done.stderr


def test_copier_accepts_good_names(template, tmp_path):
    data = [item for name, value in {**NAMES, "project_name": "Harbour 2 Analytics", "package_name": "harbour2"}.items()
            for item in ("--data", f"{name}={value}")]
    run([BIN / "copier", "copy", "--trust", "--defaults", "--pretend", "--vcs-ref", "HEAD", *data, template,
         tmp_path / "project"], template, {**os.environ, **GIT_IDENTITY}, timeout=120)


@pytest.mark.integration
def test_the_project_has_its_own_names_and_no_demo(generated):
    root, _ = generated
    files = text_files(root)
    assert [path for path, text in files.items() if any(old in text for old in OLD_NAMES) and not tool(path)] == []
    assert "harbour_analytics/__init__.py" in files and not (root / "airnub_prefect_starter").exists()
    assert {path: text for path, text in files.items() if tool(path)} == tool_files(), "the tool, copied as it is"
    assert files["README.md"].startswith("# Harbour Analytics\n")
    assert 'site_name: "Harbour Analytics"\n' in files["mkdocs.yml"], "the docs site carries the project's name"
    assert 'name = "harbour-analytics"' in files["pyproject.toml"]
    assert "kernel_name = harbour-analytics\n" in files["settings.ini"]
    assert "work_pool = harbour-analytics-process-pool\n" in files["settings.ini"]
    assert json.loads(files["nbs/index.ipynb"])["metadata"]["kernelspec"]["name"] == "harbour-analytics"
    assert 'airnub = "airnub.cli.main:main"' in files["airnub/pyproject.toml"], "the tool keeps its name"
    assert '"airnub",' in files["pyproject.toml"], "the project depends on the tool by its name"
    assert not (root / "flows" / "dept_demo").exists() and not (root / "configs" / "variables" / "dept_demo").exists()
    assert not (root / "flows" / "departments.py").exists(), "departments are found by their folders"
    assert all("deployments: []" in files[file] for file in ("prefect.local.yaml", "prefect.docker.yaml",
                                                             "prefect.kubernetes.yaml"))
    assert "\ninput_table =\n" in files["settings.ini"] and "\nbench:" not in files["Makefile"]
    assert not {"docs/research-to-production.md", "docs/new-data.md", "scripts/demo_paths.txt"} & files.keys()
    markers = ("<!-- demo -->", "<!-- no-demo", "<!-- template -->", "<!-- project")
    assert [path for path, text in files.items() if any(marker in text for marker in markers)] == []
    guides = {path: text for path, text in files.items()  # but the page on the template's own questions
              if (path.endswith(".md") or path == "nbs/index.ipynb") and path != "docs/start-your-own-project.md"}
    assert [path for path, text in guides.items() if "wine" in text or "dept_demo" in text] == []
    assert not {"copier.yml", "scripts/rename_project.py", "tests/test_template.py"} & files.keys()
    answers = (root / ".copier-answers.yml").read_text()
    assert "package_name: harbour_analytics" in answers and "with_demo: false" in answers


@pytest.mark.integration
def test_the_project_imports_and_exports_from_its_own_folder(generated):
    root, env = generated
    imported = run([sys.executable, "-c", "import harbour_analytics as m, airnub.cli.main as c; "
                    "print(m.__file__); print(c.__file__)"], root, env)
    assert all(line.startswith(str(root)) for line in imported.stdout.split()), imported.stdout
    index = root / "harbour_analytics" / "_modidx.py"
    generated_index = index.read_text()
    run([BIN / "nbdev-export"], root, env)
    assert index.read_text() == generated_index, "the package as generated is the package nbdev-export writes"
    assert "'lib_path': 'harbour_analytics'" in generated_index
    assert not (root / "airnub_prefect_starter").exists()


@pytest.mark.integration
def test_the_projects_own_fast_tests_pass(generated):
    """Its tests of what every project keeps need no demo: the quick part of them, here (`make test` runs all)."""
    root, env = generated
    # but the git hook's test: `make hooks` installs into the project's own .venv, and this project has none
    done = run([sys.executable, "-m", "pytest", "-m", "fast", "-q", "-p", "no:cacheprovider", "-n", "2",
                "-k", "not saving_in_jupyterlab"], root, {**env, "PYTEST_ADDOPTS": ""}, timeout=600)
    assert " passed" in done.stdout.splitlines()[-1] and "failed" not in done.stdout.splitlines()[-1], done.stdout


@pytest.mark.integration
def test_a_new_department_runs_its_flow_and_a_notebook(generated):
    root, env = generated
    run([sys.executable, "scripts/generators/add_department.py", "--name", "Harbour Ops", "--yes"], root, env)
    run([BIN / "airnub", "new", "task", "--department", "harbour_ops", "--stage", "processing", "--name",
         "tide report", "--notebook-task", "--yes"], root, env)
    run([BIN / "airnub", "new", "task", "--department", "harbour_ops", "--stage", "analysis", "--name",
         "count rows", "--yes"], root, env)
    run([BIN / "ruff", "check", "flows", "scripts", "tests"], root, env)  # its imports sorted for its own names
    table = root / "data" / "processed" / "tides.parquet"  # without the demo settings.ini names no input table
    table.parent.mkdir(parents=True, exist_ok=True)
    pd.DataFrame({"site": ["a", "b", "b"], "level": [1.0, 2.0, 4.0]}).to_parquet(table, index=False)
    refused = subprocess.run([BIN / "airnub", "run", "harbour_ops"], cwd=root, env=env, capture_output=True, text=True,
                             timeout=600)
    assert refused.returncode != 0 and "names no default input_table" in refused.stderr, refused.stderr[-3000:]
    done = run([BIN / "airnub", "run", "harbour_ops", "--json"], root, {**env, "AIRNUB_INPUT_TABLE": str(table)},
               timeout=600)
    report = json.loads(done.stdout)["processing"]["tide_report"]
    assert "3 rows, 2 columns" in Path(report["report"]).read_text()
    assert Path(report["report"]).is_relative_to(root)


@pytest.mark.integration
def test_copier_update_brings_a_template_change_and_keeps_the_names(template, generated):
    root, env = generated
    run([sys.executable, "scripts/generators/add_department.py", "--name", "Tide Ops", "--yes"], root, env)
    run(["git", "init", "--quiet"], root, env)
    run(["git", "add", "--all"], root, env)
    run(["git", "commit", "--quiet", "-m", "the project as generated, with a department of its own"], root, env)
    makefile = template / "Makefile"
    makefile.write_text(makefile.read_text().replace("lists the targets.", "lists every target.", 1))
    (template / "scripts" / "probe.py").write_text('"""A later template change."""\nimport airnub_prefect_starter\n\n'
                                                   "print(airnub_prefect_starter.__name__)\n")
    readme = template / "airnub" / "README.md"  # a change to the tool alone: the project's copy is replaced whole
    readme.write_text(readme.read_text() + "\nA later change of the tool.\n")
    run(["git", "add", "--all"], template, env)
    run(["git", "commit", "--quiet", "-m", "a later template change"], template, env)
    before = (root / ".copier-answers.yml").read_text()
    run([BIN / "copier", "update", "--trust", "--defaults", "--vcs-ref", "HEAD"], root, env)
    after = (root / ".copier-answers.yml").read_text()
    assert after != before and "package_name: harbour_analytics" in after, "the answers now name the new commit"
    assert (root / "Makefile").read_text().startswith("# harbour-analytics: `make help` lists every target.")
    probe = (root / "scripts" / "probe.py").read_text()
    assert probe.endswith("import harbour_analytics\n\nprint(harbour_analytics.__name__)\n")
    assert (root / "flows" / "dept_tide_ops").is_dir() and not (root / "flows" / "dept_demo").exists()
    assert (root / "airnub" / "README.md").read_text() == readme.read_text(), "the tool's change arrives as it is"
    status = run(["git", "status", "--porcelain"], root, env).stdout.splitlines()
    assert sorted(line[3:] for line in status) == [".copier-answers.yml", "Makefile", "airnub/README.md",
                                                    "scripts/probe.py"], "no conflict, nothing else touched"
    assert not (root / "airnub_prefect_starter").exists()
    files = text_files(root)
    assert [path for path, text in files.items() if any(old in text for old in OLD_NAMES) and not tool(path)] == []
    assert not [path for path in files if path.endswith(".rej")]


@pytest.mark.integration
def test_a_new_project_works_before_its_first_commit(template, tmp_path_factory, prefect_database):
    """The README's first steps in a project just made, before `git init`: a department, its run, the fast tests."""
    root, env = make_project(template, tmp_path_factory, prefect_database)
    env = {**env, "PYTEST_ADDOPTS": "", "PYTEST_WORKERS": "2"}
    borrow_venv(root, env)
    readme = (root / "README.md").read_text()
    assert "copier.yml" not in readme and "is also a [Copier](https://copier.readthedocs.io) template" not in readme
    assert "make run DEPARTMENT=harbour_ops" in readme
    run([BIN / "airnub", "new", "department", "--name", "Harbour Ops", "--yes"], root, env)
    ran = make(root, env, "run", "DEPARTMENT=harbour_ops")
    assert ran.returncode == 0, ran.stdout[-3000:] + ran.stderr[-3000:]
    assert "Traceback" not in ran.stderr, ran.stderr[-3000:]
    assert "written: nothing (the department has no steps yet" in ran.stdout, ran.stdout  # the summary: it ran
    tested = make(root, env, "test", timeout=900)  # lint, docs, the project's tests: the tool's own are not its
    assert tested.returncode == 0, tested.stdout[-3000:] + tested.stderr[-3000:]
    assert "airnub/tests" not in tested.stdout, "the tool's suite runs in the tool's repository, not in each project"
    assert not (root / ".git").exists(), "all of it before any commit"


@pytest.mark.integration
def test_a_new_project_with_the_demo_runs_it_before_its_first_commit(template, tmp_path_factory, prefect_database):
    """With the demo: `make run` (the wine pipeline, its report) and the fast tests, before `git init`."""
    root, env = make_project(template, tmp_path_factory, prefect_database, with_demo=True)
    env = {**env, "PYTEST_ADDOPTS": "", "PYTEST_WORKERS": "2"}
    borrow_venv(root, env)
    ran = make(root, env, "run", timeout=900)
    assert ran.returncode == 0 and "Traceback" not in ran.stderr, ran.stdout[-3000:] + ran.stderr[-3000:]
    assert list((root / "reports").rglob("model_evaluation*.html")), "the demo's report, written in the project"
    tested = make(root, env, "test-fast", timeout=900)
    assert tested.returncode == 0, tested.stdout[-3000:] + tested.stderr[-3000:]
    assert not (root / ".git").exists(), "all of it before any commit"
