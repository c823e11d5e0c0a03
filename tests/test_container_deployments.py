"""The project on Prefect's Docker and Kubernetes work pools, checked without a container runtime: the image's build
context (Dockerfile, .dockerignore), the deployments of prefect.docker.yaml and prefect.kubernetes.yaml against the
pools' templates (Prefect's validator), and the container or Job a worker would start from them (Prefect's own
rendering; kubectl decodes the Job offline)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from docker.utils.build import exclude_paths

from airnub.testing.helpers import KERNEL, PROJECT_ROOT, airnub
from airnub.testing.work_pools import (
    default_base_job_template,
    deployments_file,
    dropped_fields,
    effective_environment,
    job_configuration,
    job_variable_errors,
    kubectl_decoded,
    kubernetes_job,
)

FILES = {"local": "prefect.local.yaml", "docker": "prefect.docker.yaml", "kubernetes": "prefect.kubernetes.yaml"}
KUBERNETES_TEMPLATE = PROJECT_ROOT / "prefect.kubernetes.job-template.json"
IMAGE = "registry.example/airnub-prefect-starter:4f2a9c1"
WORKER_CREDENTIAL = "airnub:the-workers-own-credential"  # what the worker itself signs in with
WORKER_SETTINGS = {"PREFECT_API_URL": "http://prefect.example:4200/api", "PREFECT_API_AUTH_STRING": WORKER_CREDENTIAL}
# The template's additions to Prefect's Kubernetes template: the storage, the credential's Secret, the blank default.
ADDED_VARIABLES = {"storage_claim", "storage_root", "api_auth_secret"}
UPGRADED = ("Prefect's Kubernetes template changed (a new Prefect): take `prefect work-pool "
            "get-default-base-job-template --type kubernetes` and add the project's parts again (docs/containers.md)")
# Prefect 3.9's Kubernetes template puts a Job's fields in the Pod's spec, where Kubernetes does not know them (they
# are dropped: a Job runs one pod by default anyway). Nothing else may be dropped.
PREFECTS_MISPLACED = [".spec.template.spec.parallelism", ".spec.template.spec.completions"]


@pytest.fixture
def deploy_environment(monkeypatch):
    """What the docs have the user export before `prefect deploy` (the pool and the image the files name)."""
    monkeypatch.setenv("AIRNUB_WORK_POOL", "airnub-container-pool")
    monkeypatch.setenv("AIRNUB_IMAGE", IMAGE)


def _settings(prefect_names: dict[str, str]) -> dict:
    import prefect.settings

    return {getattr(prefect.settings, name): value for name, value in prefect_names.items()}


def _dockerfile() -> dict[str, str]:
    """The Dockerfile's WORKDIR and ENV values."""
    text = (PROJECT_ROOT / "Dockerfile").read_text()
    values = dict(re.findall(r"(\w+)=(\S+)", " ".join(re.findall(r"(?m)^ENV (.*)$", text))))
    return {**values, "WORKDIR": re.search(r"(?m)^WORKDIR (\S+)$", text).group(1),
            "USER": re.findall(r"(?m)^USER (\S+)$", text)[-1], "FROM": re.search(r"(?m)^FROM (\S+)", text).group(1)}


def test_every_deployments_file_declares_the_same_deployments():
    """One list of deployments, on three kinds of pool: the container files move the same names, never others."""
    def declared(file):
        return [{key: d.get(key) for key in ("name", "entrypoint", "tags", "schedules", "description")}
                for d in yaml.safe_load((PROJECT_ROOT / file).read_text())["deployments"]]

    assert declared(FILES["docker"]) == declared(FILES["local"]) == declared(FILES["kubernetes"])


def test_the_image_runs_flows_from_its_project_folder_as_a_user_not_root():
    image = _dockerfile()
    assert image["FROM"].startswith("python:3.11")
    assert image["USER"] not in ("root", "0")
    assert image["WORKDIR"] == image["AIRNUB_PROJECT_ROOT"] == image["PYTHONPATH"], "flows are imported from the folder"
    for kind in ("docker", "kubernetes"):
        (step,) = yaml.safe_load((PROJECT_ROOT / FILES[kind]).read_text())["pull"]
        assert step == {"prefect.deployments.steps.set_working_directory": {"directory": image["WORKDIR"]}}, kind
    dockerfile = (PROJECT_ROOT / "Dockerfile").read_text()
    assert not re.search(r"(?mi)^(ENV|ARG).*(AUTH|PASSWORD|TOKEN|SECRET|KEY)", dockerfile), "no credential baked in"


def _build_context() -> set[str]:
    """What `docker build` sends: the project's files less .dockerignore's, matched as Docker matches them."""
    patterns = [line for line in (PROJECT_ROOT / ".dockerignore").read_text().splitlines()
                if line.strip() and not line.startswith("#")]
    return set(exclude_paths(str(PROJECT_ROOT), patterns))


def test_the_build_context_holds_the_code_and_no_credential():
    context = _build_context()
    leaked = sorted(path for path in context if re.match(r"(\.prefect|\.venv|\.git|data|models|reports)/", path)
                    or path.endswith("api-auth"))
    assert leaked == [], "credentials, environments and outputs stay out of the image"
    needed = {"settings.ini", "pyproject.toml", "airnub/pyproject.toml", "airnub/README.md", "README.md", "LICENSE"}
    needed |= {d["entrypoint"].split(":")[0] for d in yaml.safe_load((PROJECT_ROOT / FILES["local"]).read_text())
               ["deployments"]}
    notebooks = {path.relative_to(PROJECT_ROOT).as_posix() for path in (PROJECT_ROOT / "nbs").rglob("*.ipynb")
                 if ".ipynb_checkpoints" not in path.parts}
    assert notebooks, "the project has notebooks"
    assert (needed | notebooks) - context == set(), "the code and every notebook a flow may run are in the image"


@pytest.mark.integration
def test_both_packages_build_from_the_build_context_and_it_names_the_kernel(tmp_path):
    """The Dockerfile's `pip install ./airnub` and `pip install .` (built here, not installed) and its kernel's name,
    from a copy of the build context alone."""
    copy = tmp_path / "project"
    for path in sorted(_build_context()):  # folders before what they hold
        if (PROJECT_ROOT / path).is_dir():
            (copy / path).mkdir(parents=True, exist_ok=True)
        else:
            shutil.copy2(PROJECT_ROOT / path, copy / path)
    wheels = tmp_path / "wheels"
    for source in ("./airnub", "."):
        subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir", str(wheels),
                        source], cwd=copy, check=True, capture_output=True, timeout=300)
    assert {wheel.name.split("-")[0] for wheel in wheels.glob("*.whl")} == {"airnub", "airnub_prefect_starter"}
    kernel = subprocess.run([sys.executable, "-m", "airnub.cli.settings_command", "get", "kernel_name"], cwd=copy,
                            env={"PATH": "/usr/bin:/bin"}, capture_output=True, text=True, check=True).stdout.strip()
    assert kernel == KERNEL, "the image registers the kernel settings.ini names"


def test_docker_deployments_run_the_image_with_the_shared_storage(deploy_environment):
    template = default_base_job_template("docker")
    pool, declared = deployments_file(PROJECT_ROOT / FILES["docker"])
    assert [d["name"] for d in declared if d["work_pool"] != pool] == [], "every deployment on the file's pool"
    assert pool["name"] == "airnub-container-pool"
    variables = pool["job_variables"]
    assert job_variable_errors(variables, template) == []
    container = job_configuration(template, variables, _settings(WORKER_SETTINGS))
    assert container["image"] == IMAGE and container["command"] == "prefect flow-run execute"
    mounted = {volume.split(":")[1]: volume.split(":")[0] for volume in container["volumes"]}
    assert mounted.get(container["env"]["AIRNUB_STORAGE_ROOT"]) == "airnub-storage", "the storage root is the volume"
    made = re.search(r"install -d -o airnub -g airnub (.*)", (PROJECT_ROOT / "Dockerfile").read_text()).group(1)
    assert container["env"]["AIRNUB_STORAGE_ROOT"] in made.split(), "a new volume takes its owner from the image"
    assert container["env"]["PREFECT_API_URL"] == WORKER_SETTINGS["PREFECT_API_URL"], "the worker hands on its server"


def test_kubernetes_job_runs_the_image_with_the_storage_and_the_credential_from_the_secret(deploy_environment,
                                                                                           tmp_path):
    template = json.loads(KUBERNETES_TEMPLATE.read_text())
    pool, declared = deployments_file(PROJECT_ROOT / FILES["kubernetes"])
    assert [d["name"] for d in declared if d["work_pool"] != pool] == [], "every deployment on the file's pool"
    variables = pool["job_variables"]
    assert job_variable_errors(variables, template) == []
    job = kubernetes_job(job_configuration(template, variables, _settings(WORKER_SETTINGS)))
    assert (job["apiVersion"], job["kind"], job["metadata"]["namespace"]) == ("batch/v1", "Job", variables["namespace"])
    pod = job["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert container["image"] == IMAGE and container["args"] == ["prefect", "flow-run", "execute"]
    environment = effective_environment(container)
    assert environment["PREFECT__FLOW_RUN_ID"] and environment["PREFECT_API_URL"] == WORKER_SETTINGS["PREFECT_API_URL"]
    assert environment["PREFECT_API_AUTH_STRING"] == {
        "secretKeyRef": {"name": variables["api_auth_secret"], "key": "auth-string"}}
    assert WORKER_CREDENTIAL not in json.dumps(job), "the worker's credential is not copied into the Job's spec"
    (mount,) = container["volumeMounts"]
    (volume,) = pod["volumes"]
    assert mount == {"name": volume["name"], "mountPath": environment["AIRNUB_STORAGE_ROOT"]}
    assert environment["AIRNUB_STORAGE_ROOT"] == variables["storage_root"]
    assert volume["persistentVolumeClaim"] == {"claimName": variables["storage_claim"]}
    user = _dockerfile()["USER"]
    assert pod["securityContext"] == {"runAsNonRoot": True, "fsGroup": int(user)}, "the storage is the image user's"
    if shutil.which("kubectl") is None:
        pytest.skip("kubectl is not installed: the Job was not decoded into Kubernetes' own types")
    assert dropped_fields(job, kubectl_decoded(job, tmp_path)) == PREFECTS_MISPLACED, "Kubernetes knows the rest"


def test_the_kubernetes_template_is_prefects_with_the_storage_and_the_secret_added():
    """Prefect's template, every variable kept: a deployment valid on Prefect's pool is valid on the project's."""
    ours, prefects = json.loads(KUBERNETES_TEMPLATE.read_text()), default_base_job_template("kubernetes")
    variables, default_variables = ours["variables"]["properties"], prefects["variables"]["properties"]
    assert set(variables) - set(default_variables) == ADDED_VARIABLES
    assert variables["env"]["default"] == {"PREFECT_API_AUTH_STRING": ""}
    for name, schema in default_variables.items():
        assert {**variables[name], "default": None, "description": None} == {
            **schema, "default": None, "description": None}, f"{name}: {UPGRADED}"
    pod = ours["job_configuration"]["job_manifest"]["spec"]["template"]["spec"]
    del pod["volumes"], pod["containers"][0]["volumeMounts"], pod["securityContext"]
    pod["containers"][0]["env"] = "{{ env }}"
    assert ours["job_configuration"] == prefects["job_configuration"], UPGRADED


def test_a_misspelt_or_mistyped_job_variable_is_refused(deploy_environment, monkeypatch):
    from prefect.utilities.schema_tools import validate

    template = json.loads(KUBERNETES_TEMPLATE.read_text())
    variables = deployments_file(PROJECT_ROOT / FILES["kubernetes"])[0]["job_variables"]
    misspelt = {**{k: v for k, v in variables.items() if k != "storage_root"}, "storage_rot": "/mnt/airnub-storage"}
    assert validate(misspelt, template["variables"], ignore_required=True) == [], "Prefect alone lets it through"
    missing, unknown = job_variable_errors(misspelt, template)
    assert missing == "job_variables: 'storage_root' is a required property"
    assert unknown.startswith("storage_rot: not a job variable of this pool (it has: api_auth_secret, ")
    (error,) = job_variable_errors({**variables, "finished_job_ttl": "one day"}, template)
    assert error.startswith("finished_job_ttl: ")
    (error,) = job_variable_errors({"imge": IMAGE}, default_base_job_template("docker"))
    assert error.startswith("imge: not a job variable")
    monkeypatch.delenv("AIRNUB_IMAGE")
    variables = deployments_file(PROJECT_ROOT / FILES["docker"])[0]["job_variables"]
    (error,) = job_variable_errors(variables, default_base_job_template("docker"))
    assert error == "image: {{ $AIRNUB_IMAGE }} is not filled in: set AIRNUB_IMAGE before `prefect deploy`"


READ_DEPLOYMENTS = """
import asyncio, json
from prefect.client.orchestration import get_client
async def main():
    async with get_client() as client:
        print(json.dumps({d.name: [d.work_pool_name, d.job_variables, str(d.id)]
                          for d in await client.read_deployments()}))
asyncio.run(main())
"""


@pytest.mark.integration
def test_a_prefect_server_takes_the_pools_the_deployments_and_their_runs(stopped_server):
    """The pools created and the files deployed as docs/containers.md says, on a real server (its own validation:
    the template's schema, the deployments' job variables, a run's required variables); no worker picks the runs."""
    env = {**stopped_server, "AIRNUB_PROJECT_ROOT": str(PROJECT_ROOT), "PYTHONPATH": str(PROJECT_ROOT),
           "AIRNUB_IMAGE": IMAGE}
    started = airnub("server", "start", env=env)
    assert started.returncode == 0, started.stdout + started.stderr
    env.update(PREFECT_API_URL=f"http://127.0.0.1:{env['AIRNUB_SERVER_PORT']}/api",
               PREFECT_API_AUTH_STRING=(Path(env["AIRNUB_SERVER_HOME"]) / "api-auth").read_text().strip())

    def prefect(*args: str) -> str:
        done = subprocess.run([sys.executable, "-m", "prefect", *args], cwd=PROJECT_ROOT, env=env, capture_output=True,
                              text=True, timeout=300)
        assert done.returncode == 0, f"prefect {' '.join(args)}: {done.stdout}{done.stderr}"
        return done.stdout

    pools = {"docker": "airnub-docker-pool", "kubernetes": "airnub-kubernetes-pool"}
    prefect("work-pool", "create", "--type", "docker", pools["docker"])
    prefect("work-pool", "create", "--type", "kubernetes", "--base-job-template", str(KUBERNETES_TEMPLATE),
            pools["kubernetes"])
    for kind, pool in pools.items():
        names = [d["name"] for d in yaml.safe_load((PROJECT_ROOT / FILES[kind]).read_text())["deployments"]]
        if not names:
            pytest.skip("the pools were taken; no deployment to deploy yet (add a department)")
        env["AIRNUB_WORK_POOL"] = pool
        prefect("deploy", "--prefect-file", FILES[kind], "--all", "--no-prompt")
        listed = json.loads(prefect_python(READ_DEPLOYMENTS, env))
        assert {name: listed[name][0] for name in names} == dict.fromkeys(names, pool), "moved onto the file's pool"
        assert {listed[name][1]["image"] for name in names} == {IMAGE}
        # a run: the server checks its job variables against the pool's, required ones (storage, Secret) included
        prefect("deployment", "run", "--id", listed[names[0]][2])


def prefect_python(code: str, env: dict) -> str:
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout

