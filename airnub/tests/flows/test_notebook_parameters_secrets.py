"""Secrets, by name and by value: one rule (engine/secret_rules) for notebook parameters and the YAML of Variables."""

from __future__ import annotations

import base64

import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterName

from airnub.engine.notebook_parameters import NotebookParameterError, check_parameters, read_contract
from airnub.testing.helpers import airnub, config_project, own_notebooks_dir, write_notebook, write_variables

SECRETS = ["authToken", "clientSecret", "DB_PASS", "Token2", "accessToken", "db_pwd", "my_secret2", "passphrase",
           "auth_header", "secretkey", "apikey", "api_key", "db_password", "gcp_credentials", "private_key",
           "PGPASSWORD", "webhook_url", "api_keys", "passwords", "tokens", "secret_value", "private_key_pem", "x_auth",
           "dsn", "pw"]
NOT_SECRETS = ["model_key", "primary_key", "sort_key", "join_key", "partition_key", "s3_key", "token_limit",
               "use_auth_token", "gcp_credentials_path", "max_tokens", "DATABASE_URL"]
PEM = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA-hunter2\n-----END OPENSSH PRIVATE KEY-----\n"


@pytest.fixture
def notebook(tmp_path):
    return write_notebook(tmp_path / "names.ipynb", "\n".join(
        [f"{name} = ''" for name in SECRETS + NOT_SECRETS] + ["second_pass = 1  # not-secret: the second pass"]))


def test_secret_names_are_refused_and_keys_limits_paths_and_flags_pass(notebook):
    contract = read_contract(notebook)
    assert [name for name, parameter in contract.items() if parameter.secret] == SECRETS
    for name in SECRETS:
        with pytest.raises(NotebookParameterError, match=f"parameter '{name}' looks like a secret"):
            check_parameters(notebook, {name: "s3cr3t"}, from_text=True)
    given = dict.fromkeys(NOT_SECRETS, "x")
    assert check_parameters(notebook, given, from_text=True) == given


def test_a_not_secret_comment_lets_a_name_and_its_value_through(notebook):
    assert check_parameters(notebook, {"second_pass": "2"}, from_text=True) == {"second_pass": 2}
    assert read_contract(notebook)["second_pass"].help == "the second pass"
    with pytest.raises(NotebookParameterError, match="parameter 'DATABASE_URL' holds a URL with a password"):
        check_parameters(notebook, {"DATABASE_URL": "postgresql://app:hunter2@db/sales"})
    marked = write_notebook(notebook.parent / "marked.ipynb", "DATABASE_URL = ''  # not-secret: the CI database")
    assert check_parameters(marked, {"DATABASE_URL": "postgresql://ci:ci@localhost/ci"}) == {
        "DATABASE_URL": "postgresql://ci:ci@localhost/ci"}


@pytest.fixture
def secrets_notebook(subprocess_env, tmp_path):
    """A notebook in a notebooks folder of the test's own, whose parameters a user might fill with secrets."""
    subprocess_env.update(own_notebooks_dir(tmp_path / "nbs"))
    return write_notebook(tmp_path / "nbs" / "connect.ipynb", "PGPASSWORD = ''\nDATABASE_URL: str = ''\n"
                          "webhook_url = ''\nsettings: dict = {}\nprivate_key_pem = ''\ntitle: str = 'Report'",
                          "print(title)")


def _encoded(yaml_text: str) -> str:
    return base64.b64encode(yaml_text.encode()).decode()


@pytest.mark.parametrize(("args", "reason"), [
    (["-p", "PGPASSWORD", "hunter2"], "parameter 'PGPASSWORD' looks like a secret"),
    (["-r", "DATABASE_URL", "postgresql://app:hunter2@db.internal/sales"],
     "parameter 'DATABASE_URL' holds a URL with a password"),
    (["-y", "webhook_url: https://hooks.slack.com/services/T0/B0/hunter2"],
     "parameter 'webhook_url' looks like a secret"),
    (["-y", "title: 'Bearer hunter2hunter2hunter2'"], "parameter 'title' holds a bearer token"),
    (["-f", "params.yaml"], "parameter 'settings' holds the key 'db.dsn', which looks like a secret"),
    (["-b", _encoded(f"title: |\n  {PEM.replace(chr(10), chr(10) + '  ')}")],
     "parameter 'title' holds a PEM private key"),
    (["-b", _encoded("private_key_pem: hunter2")], "parameter 'private_key_pem' looks like a secret"),
], ids=["-p name", "-r url", "-y webhook", "-y bearer", "-f nested key", "-b pem value", "-b name"])
def test_the_command_line_refuses_a_secret_by_name_or_value_and_writes_nothing(secrets_notebook, subprocess_env,
                                                                               tmp_path, args, reason):
    (tmp_path / "params.yaml").write_text("settings:\n  db:\n    host: db.internal\n    dsn: hunter2\n")
    args = [str(tmp_path / arg) if arg == "params.yaml" else arg for arg in args]
    done = airnub("notebook", str(secrets_notebook), *args, env=subprocess_env)
    assert done.returncode == 2 and done.stdout == "", done.stderr
    assert done.stderr.startswith(f"airnub: {secrets_notebook}: {reason}") and done.stderr.count("\n") == 1
    assert "Prefect Secret block" in done.stderr and "`# not-secret`" in done.stderr
    assert "hunter2" not in done.stderr, "the refusal never repeats the secret"
    assert not (tmp_path / "reports").exists() and not (tmp_path / "cache").exists(), "nothing ran, nothing written"


def test_a_sweep_grid_holding_a_secret_is_refused_before_its_flow_run_exists(secrets_notebook, subprocess_env,
                                                                               tmp_path):
    grid = tmp_path / "grid.yaml"
    grid.write_text("title: [Q1, 'mysql://root:hunter2@db.internal/sales']\n")
    done = airnub("sweep", str(secrets_notebook), "--grid", str(grid), env=subprocess_env)
    assert done.returncode == 2 and done.stdout == "", done.stderr
    assert done.stderr.startswith(f"airnub: {secrets_notebook}: parameter 'title' holds a URL with a password")
    assert "hunter2" not in done.stderr and not (tmp_path / "reports").exists()
    with get_client(sync_client=True) as client:
        runs = client.read_flow_runs(flow_run_filter=FlowRunFilter(
            name=FlowRunFilterName(any_=[f"sweep-{secrets_notebook}"])))
    assert runs == [], "no flow run holds the grid as its parameter"


@pytest.mark.parametrize(("text", "reason"), [
    ("message: trained\nslack:\n  channel: '#ml'\n  authToken: xoxb-123\n",
     "it holds the key 'slack.authToken', which looks like a secret"),
    ("message: trained\nposts:\n  - https://hooks.slack.com/services/T0/B0/xoxb-123\n",
     "it holds a webhook URL at 'posts[0]'"),
], ids=["key", "value"])
def test_variables_sync_refuses_a_secret_key_or_value_before_writing(subprocess_env, tmp_path, text, reason):
    project = config_project(tmp_path / "project")
    config = project / "configs" / "variables" / "dept_ops" / "analysis" / "training" / "notify_webhook.yaml"
    config.write_text(text)
    done = airnub("variables", "sync", env={**subprocess_env, "AIRNUB_PROJECT_ROOT": str(project)})
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr == (f"airnub: {config}: {reason}, and Variables are plain text; keep secrets in a Secret "
                           "block (SECRET_BLOCKS in airnub/src/airnub/orchestration/secrets.py, then `make blocks`)\n")
    assert "xoxb" not in done.stderr


def test_a_secret_key_in_one_file_stops_the_whole_sync(tmp_path, clean_variables):
    from prefect.variables import Variable

    from airnub.orchestration.config import ConfigError
    from airnub.orchestration.variables_sync import sync_variables

    tree = write_variables(tmp_path / "variables")
    (tree / "dept_ops" / "analysis" / "monitoring.yaml").write_text("drift_threshold: 0.2\n")  # a pending create
    (tree / "dept_ops" / "processing" / "cleaning.yaml").write_text("db_pwd: hunter2\n")
    with pytest.raises(ConfigError, match="cleaning.yaml: it holds the key 'db_pwd', which looks like a secret"):
        sync_variables(tree)
    assert Variable.get("dept_ops__analysis__monitoring") is None, "no Variable was created"
