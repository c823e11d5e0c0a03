"""Secret-looking names: one rule (`looks_secret`) for notebook parameters and for the YAML that becomes Variables."""

from __future__ import annotations

import pytest
from helpers import airnub, config_project, write_notebook, write_variables

from airnub_prefect_starter.engine.notebook_parameters import NotebookParameterError, check_parameters, read_contract

SECRETS = ["authToken", "clientSecret", "DB_PASS", "Token2", "accessToken", "db_pwd", "my_secret2", "passphrase",
           "auth_header", "secretkey", "apikey", "api_key", "db_password", "gcp_credentials", "private_key"]
NOT_SECRETS = ["model_key", "primary_key", "sort_key", "join_key", "partition_key", "s3_key", "token_limit",
               "use_auth_token", "gcp_credentials_path", "max_tokens"]


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


def test_a_not_secret_comment_lets_a_name_through(notebook):
    assert check_parameters(notebook, {"second_pass": "2"}, from_text=True) == {"second_pass": 2}
    assert read_contract(notebook)["second_pass"].help == "the second pass"


def test_variables_sync_refuses_a_secret_looking_key_before_writing(subprocess_env, tmp_path):
    project = config_project(tmp_path / "project")
    config = project / "configs" / "variables" / "dept_ops" / "analysis" / "training" / "notify_webhook.yaml"
    config.write_text("message: trained\nslack:\n  channel: '#ml'\n  authToken: xoxb-123\n")
    done = airnub("variables", "sync", env={**subprocess_env, "AIRNUB_PROJECT_ROOT": str(project)})
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr == (f"airnub: {config}: key 'slack.authToken' looks like a secret, and Variables are plain "
                           "text; keep it in a Secret block (SECRET_BLOCKS in flows/common/secrets.py, then "
                           "`make blocks`)\n")
    assert "xoxb" not in done.stderr


def test_a_secret_key_in_one_file_stops_the_whole_sync(tmp_path, clean_variables):
    from prefect.variables import Variable

    from flows.common.config import ConfigError
    from flows.common.variables_sync import sync_variables

    tree = write_variables(tmp_path / "variables")
    (tree / "dept_ops" / "analysis" / "monitoring.yaml").write_text("drift_threshold: 0.2\n")  # a pending create
    (tree / "dept_ops" / "processing" / "cleaning.yaml").write_text("db_pwd: hunter2\n")
    with pytest.raises(ConfigError, match="cleaning.yaml: key 'db_pwd' looks like a secret"):
        sync_variables(tree)
    assert Variable.get("dept_ops__analysis__monitoring") is None, "no Variable was created"
