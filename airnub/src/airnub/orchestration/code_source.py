"""Where a deployment's code comes from: the repository at the commit that was deployed, or this checkout.

`make deploy` asks `deployed_source` which it is and exports the answer (AIRNUB_GIT_REPOSITORY, AIRNUB_GIT_COMMIT),
which prefect.local.yaml's pull step (`pull_code`) receives: with a repository, a worker anywhere clones it at that
commit (Prefect's own `git_clone`) into its flow run's folder and runs from the clone; with none (a project that is not
a git checkout, or has no `origin` and was given no REPOSITORY), it runs from the checkout it was deployed from, on the
same machine. A deployment must carry what the user sees: with a repository, uncommitted changes and a commit the
repository does not have are refused, each in one line.
"""

from __future__ import annotations

import argparse
import os
import shlex
import subprocess
import sys
from pathlib import Path

CHANGES_SHOWN = 3  # uncommitted paths a refusal names


class SourceError(ValueError):
    """The deployment would not carry the code the user sees: one line saying why and what to do."""


def _git(root: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True, timeout=120)


def default_repository(root: Path) -> str:
    """The `origin` remote of the git checkout at `root`; empty when it has none or is not a checkout."""
    done = _git(root, "remote", "get-url", "origin")
    return done.stdout.strip() if done.returncode == 0 else ""


def _address(repository: str, root: Path) -> str:
    """`repository` as a worker elsewhere can use it: a local folder becomes an absolute path."""
    folder = Path(repository).expanduser()
    if "://" not in repository and not folder.is_absolute() and (root / folder).is_dir():
        return str((root / folder).resolve())
    return repository


def _uncommitted(root: Path) -> list[str]:
    done = _git(root, "status", "--porcelain", "--untracked-files=normal")
    if done.returncode != 0:
        raise SourceError(f"make deploy: {root} is not a git checkout, so REPOSITORY cannot carry its code "
                          "(git init and commit, or deploy with REPOSITORY= to run from this checkout)")
    return [line[3:] for line in done.stdout.splitlines() if line.strip()]


def _on_repository(root: Path, repository: str, commit: str) -> bool:
    """True when `commit` is a branch or tag head of `repository`, or an ancestor of one this checkout knows."""
    done = _git(root, "ls-remote", repository)
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no answer"])[-1]
        raise SourceError(f"make deploy: the repository {repository} cannot be read ({last})")
    heads = {line.split()[0] for line in done.stdout.splitlines() if line.strip()}
    return commit in heads or any(_git(root, "merge-base", "--is-ancestor", commit, head).returncode == 0
                                  for head in heads)


def deployed_source(root: Path, repository: str) -> dict[str, str]:
    """AIRNUB_GIT_REPOSITORY and AIRNUB_GIT_COMMIT for `make deploy` (both empty: run from the checkout at `root`);
    SourceError when the repository would not carry the code of the checkout."""
    if not repository:
        return {"AIRNUB_GIT_REPOSITORY": "", "AIRNUB_GIT_COMMIT": ""}
    repository = _address(repository, root)
    if changes := _uncommitted(root):
        shown = ", ".join(changes[:CHANGES_SHOWN]) + (", ..." if len(changes) > CHANGES_SHOWN else "")
        raise SourceError(f"make deploy: {len(changes)} uncommitted change(s) the deployment would not carry "
                          f"({shown}): commit and push them, or deploy with REPOSITORY= to run from this checkout")
    commit = _git(root, "rev-parse", "HEAD").stdout.strip()
    if not _on_repository(root, repository, commit):
        raise SourceError(f"make deploy: HEAD {commit[:12]} is not on {repository}: push it first (git push), "
                          "so that workers can fetch the commit that is deployed")
    return {"AIRNUB_GIT_REPOSITORY": repository, "AIRNUB_GIT_COMMIT": commit}


def pull_code(repository: str, commit_sha: str, checkout: str) -> dict[str, str]:
    """The deployments' pull step: clone `repository` at `commit_sha` (Prefect's git_clone) and work in the clone;
    with no repository, work in `checkout`. Returns the folder, as Prefect's steps do."""
    from prefect.deployments.steps import git_clone, set_working_directory

    if repository:
        if not commit_sha:
            raise ValueError("pull_code: a repository was deployed without its commit (commit_sha is empty); "
                             "deploy again with `make deploy`")
        directory = str(Path(git_clone(repository=repository, commit_sha=commit_sha)["directory"]).resolve())
    else:
        directory = checkout
    set_working_directory(directory)
    return {"directory": directory}


def main(argv: list[str] | None = None) -> None:
    """Print the shell exports of `deployed_source` for `make deploy`; one line on stderr and exit 2 on a refusal."""
    parser = argparse.ArgumentParser(prog="python -m airnub.orchestration.code_source", description=main.__doc__)
    parser.add_argument("--repository", help="the repository workers clone (default: origin; empty: this checkout)")
    parser.add_argument("--root", type=Path, default=Path.cwd(), help="the project's checkout")
    arguments = parser.parse_args(argv)
    repository = default_repository(arguments.root) if arguments.repository is None else arguments.repository
    try:
        source = deployed_source(arguments.root, repository)
    except SourceError as error:
        print(error, file=sys.stderr)
        raise SystemExit(2) from None
    where = f"{source['AIRNUB_GIT_REPOSITORY']} at {source['AIRNUB_GIT_COMMIT'][:12]}" if repository else \
        f"this checkout, {os.path.abspath(arguments.root)} (no repository named)"
    print(f"echo {shlex.quote('deploy: workers run the code of ' + where)};")
    print("".join(f"export {name}={shlex.quote(value)}; " for name, value in source.items()))


if __name__ == "__main__":
    main()
