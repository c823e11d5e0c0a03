"""The airnub tool: nbdev notebooks as a package, papermill runs with a run cache, Prefect 3 flows, one command.

Modules:

- `airnub.cli.checks`: A parsed command line checked once into a typed request (`airnub.commands.requests`), or answered here.
- `airnub.cli.main`: The `airnub` command: run a department's flows, a parameterised notebook, or a sweep from the shell.
- `airnub.cli.papermill_flags`: papermill's command line, as `airnub notebook` reads it: the flags it takes, the ones it refuses, and why.
- `airnub.cli.settings_command`: `airnub settings`: the project's settings as the tool reads them (settings.ini plus AIRNUB_* overrides).
- `airnub.commands.execution`: The execution of a typed request: what the command line calls in its own process, and the warm runner in a child.
- `airnub.commands.faults`: Faults a command ends with in one line: a Prefect server that stopped answering, a full disk.
- `airnub.commands.outcomes`: How a command ends: its exit code, and one line on stderr for each problem (never a traceback for bad input).
- `airnub.commands.requests`: The typed requests of the `airnub` command: one frozen dataclass per command kind, and their JSON form.
- `airnub.docs.build`: Stage the docs site's sources: every package notebook executed once, the guides beside them.
- `airnub.docs.nav`: MkDocs hook: the nav from what exists. A nav section per folder of executed notebooks, so a new notebook is a page without editing the nav, and a "Pipelines" section of the departments' pipeline pictures; a guide mkdocs.yml lists that is not there (a project made without the demo has none of its guides) is left out of the nav, not a broken link.
- `airnub.notebook_files.clean`: Clean notebooks the way git stores them: outputs cleared, then nbdev-clean.
- `airnub.notebook_files.fresh`: Copy notebooks with their outputs cleared, for nbval.
- `airnub.orchestration.cache`: Caching for function tasks: skip a task when nothing it depends on changed, and say why it ran.
- `airnub.orchestration.code_source`: Where a deployment's code comes from: the repository at the commit that was deployed, or this checkout.
- `airnub.orchestration.config`: Flow configuration: a Prefect Variable per YAML file in configs/variables/, the file as fallback.
- `airnub.orchestration.config_check`: Every config checked against the flow or task it configures, before any flow run.
- `airnub.orchestration.crash_retry`: A flow run that crashed under its worker (the worker or its machine died) runs again once, on any worker of the pool.
- `airnub.orchestration.dask_runner`: prefect-dask's task runner, with each task carrying the settings of the flow that submitted it.
- `airnub.orchestration.departments`: The departments of a project and how to find their flows: by convention, with nothing to register.
- `airnub.orchestration.exports`: Notebooks newer than their modules, exported before a run: the code a run uses is the code on screen.
- `airnub.orchestration.locks`: Runs writing the same outputs take turns; runs writing other outputs do not wait for them.
- `airnub.orchestration.notebook_task`: The papermill task: run a parameterised notebook of the project in its kernel, as a Prefect task.
- `airnub.orchestration.plan`: A plan before a run: every step of a flow's tree, and whether it would run (and why) or is served from the cache.
- `airnub.orchestration.plan_flow`: Nothing changed, nothing orchestrated: a pipeline whose plan has nothing to do answers as one flow run.
- `airnub.orchestration.plan_picture`: The pipeline as a picture: a plan's steps (stages, categories, and the files each step reads and writes) as Mermaid.
- `airnub.orchestration.safe_yaml`: YAML from files people edit, loaded safely: plain types only, bounded in size, aliases included.
- `airnub.orchestration.secrets`: Secrets live in Prefect Secret blocks, never in YAML or notebooks.
- `airnub.orchestration.variables_sync`: `airnub variables sync`: every YAML file in configs/variables/ becomes one Prefect Variable.
- `airnub.project`: What the tool knows of the project it serves: its package, named where nbdev reads it (the project's pyproject.toml, `[tool.nbdev]`), and its folder on the import path so that its flows import as `flows.dept_<id>`.
- `airnub.scaffolding.command`: The command line shared by scripts/generators/add_*.py and `airnub new department|category|task`.
- `airnub.scaffolding.python_edit`: Wiring into existing Python files, guided by their syntax tree: an import, a parameter, a call, a mapping entry.
- `airnub.services.prefect_server`: The project's own Prefect server: started in the background, reused by every command, stopped on request.
- `airnub.services.prefect_server_process`: `prefect server start`, with the SQLite database's write transactions taking their lock up front.
- `airnub.services.processes`: What a command starts ends with it: Linux's parent-death signal, child subreapers and a sweep of descendants.
- `airnub.services.reports_http`: The reports folder over HTTP beside the project's Prefect server, so that a report opens in one click from the UI.
- `airnub.services.server_identity`: What makes the project's server provably its own: a private state folder, a credential, the processes it started.
- `airnub.services.warm_runner`: The warm runner: one process with Prefect and the project's libraries imported, forking a child per command.
- `airnub.services.warm_runner_protocol`: The wire between a command and the warm runner: the command's side (`forward`) and the runner's (`Arriving`).
- `airnub.services.worker`: `make worker`: Prefect's process worker, stopped once however many times its stop signal arrives.
- `airnub.testing.dask_cluster`: A real Dask cluster started apart, as a team starts one (docs/team-path.md, "A Dask cluster"): a `dask scheduler` process and `dask worker` processes on loopback, each worker in a working folder of its own; stopped after.
- `airnub.testing.flows`: Flow tests' fixtures and helpers: flows on the session's project server, a webhook, the logs a run shipped.
- `airnub.testing.remote`: Another machine, played on this one: a worker that shares nothing with the checkout but the network and storage.
- `airnub.testing.team`: A team on loopback: a repository, a developer's checkout, a Prefect server, one storage folder, and workers that play other machines (airnub.testing.remote). The remote-worker tests and `make bench-team` use it.
- `airnub.testing.work_pools`: Prefect's Docker and Kubernetes work pools, checked where no container runtime runs."""

__version__ = "0.1.0"
