"""Prefect's Docker and Kubernetes work pools, checked where no container runtime runs.

A deployments file (prefect.docker.yaml, prefect.kubernetes.yaml) is read as `prefect deploy` reads it (`{{ $VAR }}`
from the environment), its job variables are checked against the pool's base job template with Prefect's own
validator, and the job a worker would start is rendered with Prefect's own code (`from_template_and_values`,
`prepare_for_flow_run`); `kubectl` decodes a Kubernetes Job offline into its typed API objects.
"""

from __future__ import annotations

import asyncio
import copy
import json
import os
import re
import shlex
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from uuid import uuid4

import yaml
from pydantic import ConfigDict

KUBECTL_SECONDS = 30
# `{{ $VAR }}` that `prefect deploy` left as it was: VAR was not set (Prefect deploys the text itself).
UNFILLED = re.compile(r"\{\{ *\$(\w+) *\}\}")
# kubectl adds this variable to the Job it decodes (`set env --local` is the command that decodes a Job offline).
DECODED_MARKER = "AIRNUB_DECODED_BY_KUBECTL"


def default_base_job_template(pool_type: str) -> dict[str, Any]:
    """The base job template Prefect gives a new pool of `pool_type` (its collections metadata, read offline)."""
    import prefect

    metadata = Path(prefect.__file__).parent / "server/api/collections_data/views/aggregate-worker-metadata.json"
    for workers in json.loads(metadata.read_text()).values():
        for worker in workers.values():
            if worker.get("type") == pool_type:
                return copy.deepcopy(worker["default_base_job_configuration"])
    raise ValueError(f"pool type {pool_type!r}: Prefect {prefect.__version__} ships no template for it")


def deployments_file(prefect_file: Path) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The one work pool of `prefect_file`'s definitions and its deployments, as `prefect deploy` reads them
    (`{{ $VAR }}` from this process's environment)."""
    from prefect.utilities.templating import apply_values

    config = apply_values(yaml.safe_load(prefect_file.read_text()), dict(os.environ), remove_notset=False)
    (pool,) = config["definitions"]["work_pools"].values()
    return pool, config["deployments"] or []


def job_variable_errors(job_variables: Mapping[str, Any], template: Mapping[str, Any]) -> list[str]:
    """What is wrong with `job_variables` for a pool of `template`: Prefect's validator as a run meets it (the
    pool's defaults under them, required ones given), and a name the template does not declare (Prefect's server
    takes it, and the worker ignores it: a misspelt variable does nothing)."""
    from prefect.utilities.schema_tools import validate

    schema = template["variables"]
    declared = schema.get("properties", {})
    defaults = {name: variable["default"] for name, variable in declared.items() if "default" in variable}
    errors = [f"{'.'.join(map(str, error.path)) or 'job_variables'}: {error.message}"
              for error in validate({**defaults, **job_variables}, schema, preprocess=True,
                                    allow_none_with_default=True)]
    unknown = [f"{name}: not a job variable of this pool (it has: {', '.join(sorted(declared))})"
               for name in job_variables if name not in declared]
    unfilled = [f"{name}: {value} is not filled in: set {match.group(1)} before `prefect deploy`"
                for name, value in job_variables.items()
                if isinstance(value, str) and (match := UNFILLED.search(value))]
    return errors + unknown + unfilled


def job_configuration(template: Mapping[str, Any], job_variables: Mapping[str, Any],
                      worker_settings: Mapping[Any, str]) -> dict[str, Any]:
    """The job configuration a worker (with `worker_settings`, Prefect settings) prepares for a flow run."""
    from prefect.client.schemas.objects import FlowRun
    from prefect.settings import temporary_settings
    from prefect.workers.base import BaseJobConfiguration

    class JobConfiguration(BaseJobConfiguration):
        model_config = ConfigDict(extra="allow")  # the pool type's own fields (image, job_manifest, volumes, ...)

    # no client is asked: the template names no block and no Prefect Variable
    configuration = asyncio.run(JobConfiguration.from_template_and_values(
        dict(template), dict(job_variables), client=object()))
    with temporary_settings(updates=dict(worker_settings)):
        configuration.prepare_for_flow_run(FlowRun(flow_id=uuid4(), name="checked-run"))
    return configuration.model_dump()


def kubernetes_job(configuration: Mapping[str, Any]) -> dict[str, Any]:
    """The Job manifest the Kubernetes worker creates from a prepared `configuration` (prefect-kubernetes'
    KubernetesWorkerJobConfiguration.prepare_for_flow_run: the environment as a list, put before a list the
    template names itself; the command as arguments; the labels; the name)."""
    manifest = copy.deepcopy(configuration["job_manifest"])
    container = manifest["spec"]["template"]["spec"]["containers"][0]
    listed = [{"name": name, "value": value} for name, value in configuration["env"].items()]
    container["env"] = [*listed, *container["env"]] if isinstance(container.get("env"), list) else listed
    container["args"] = shlex.split(container.get("args") or configuration["command"])
    manifest["metadata"]["labels"] = {**manifest["metadata"].get("labels", {}), **configuration["labels"]}
    manifest["metadata"]["generateName"] = f"{configuration['name'] or 'prefect-job'}-"
    return manifest


def effective_environment(container: Mapping[str, Any]) -> dict[str, Any]:
    """A container's environment as the container sees it: a name listed twice takes its last entry."""
    return {entry["name"]: entry.get("value", entry.get("valueFrom")) for entry in container.get("env", [])}


def kubectl_decoded(manifest: Mapping[str, Any], folder: Path) -> dict[str, Any]:
    """`manifest` decoded by kubectl into its typed Kubernetes objects, offline (a field Kubernetes does not know is
    dropped; a value of the wrong type is refused: ValueError with kubectl's line)."""
    path = folder / "job.yaml"
    path.write_text(yaml.safe_dump(dict(manifest)))
    environ = {**os.environ, "KUBECONFIG": os.devnull}  # no cluster is asked
    done = subprocess.run(["kubectl", "set", "env", "--local", "-f", str(path), f"{DECODED_MARKER}=1", "-o", "json"],
                          capture_output=True, text=True, timeout=KUBECTL_SECONDS, env=environ)
    if done.returncode != 0:
        raise ValueError(done.stderr.strip())
    decoded = json.loads(done.stdout)
    for container in decoded["spec"]["template"]["spec"]["containers"]:
        container["env"] = [entry for entry in container.get("env", []) if entry["name"] != DECODED_MARKER]
    return decoded


def dropped_fields(ours: Any, decoded: Any, path: str = "") -> list[str]:
    """The fields of `ours` that `decoded` lacks or holds otherwise (what Kubernetes would not keep of them); an
    empty value is the same as none (Kubernetes leaves it out)."""
    if isinstance(ours, dict) and isinstance(decoded, dict):
        return [dropped for key, value in ours.items() if key in decoded or value not in ("", {}, [], None)
                for dropped in (dropped_fields(value, decoded[key], f"{path}.{key}") if key in decoded
                                else [f"{path}.{key}"])]
    if isinstance(ours, list) and isinstance(decoded, list) and len(ours) == len(decoded):
        return [dropped for index, (mine, theirs) in enumerate(zip(ours, decoded, strict=True))
                for dropped in dropped_fields(mine, theirs, f"{path}[{index}]")]
    return [] if ours == decoded else [f"{path}: {ours!r} became {decoded!r}"]
