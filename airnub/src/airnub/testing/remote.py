"""Another machine, played on this one: a worker that shares nothing with the checkout but the network and storage.

Its own folder (empty at the start), its own HOME and PREFECT_HOME, its own venv, and no path into the checkout. The
venv is built as an image build would build it, cheaply: a `python -m venv`, the third-party packages and Jupyter's
data files hard-linked from the checkout's venv (`cp -al`: the same files, none of the checkout's editable installs
or `.pth` files that point into it), then the tool and the project installed (`pip install --no-deps`) from wheels
built from the *deployed repository* at the deployed commit, and the project kernel registered inside it. A
`sitecustomize.py` in that venv installs an audit hook (every process of the venv has it: the worker, its flow runs,
their kernels) that appends to `audit.log` every file opened, listed or entered under the folders named in
AIRNUB_AUDIT_FORBIDDEN: a test asserts the log empty, which proves "no access to the checkout's files".
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

from airnub.testing.helpers import KERNEL

SITE_PACKAGES = Path(sysconfig.get_paths()["purelib"])
VENV = Path(sys.prefix)  # the checkout's venv, whose third-party packages a worker's venv links
AUDIT_HOOK = '''"""Audit hook of a test's remote worker venv: record any file touched under AIRNUB_AUDIT_FORBIDDEN."""
import os
import sys

_ROOTS = tuple(p.rstrip("/") + "/" for p in os.environ.get("AIRNUB_AUDIT_FORBIDDEN", "").split(os.pathsep) if p)
_LOG = os.environ.get("AIRNUB_AUDIT_LOG", "")
_EVENTS = {"open", "os.listdir", "os.scandir", "os.chdir"}


def _record(event, args):
    if event not in _EVENTS or not args or not isinstance(args[0], (str, bytes, os.PathLike)):
        return
    path = os.path.abspath(os.fsdecode(args[0]))
    if (path + "/").startswith(_ROOTS):
        descriptor = os.open(_LOG, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        os.write(descriptor, f"{os.getpid()} {event} {path}\\n".encode())
        os.close(descriptor)


if _ROOTS and _LOG:
    sys.addaudithook(_record)
'''


def _into_checkout(entry: Path, checkout: Path) -> bool:
    """True for what ties a venv to the checkout: editable installs of the tool and the project, `.pth` into it."""
    name = entry.name
    if name.startswith(("__editable__", "airnub-", "airnub_prefect_starter-")):
        return True
    return name.endswith(".pth") and str(checkout) in entry.read_text(errors="replace")


def linked_venv(folder: Path, checkout: Path) -> Path:
    """A venv in `folder` whose third-party packages are hard links of this venv's (none of `checkout`'s own code);
    its python."""
    subprocess.run([sys._base_executable, "-m", "venv", "--without-pip", str(folder)], check=True, timeout=120)
    python = folder / "bin" / "python"
    target = Path(subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                                 capture_output=True, text=True, check=True).stdout.strip())
    entries = [str(p) for p in sorted(SITE_PACKAGES.iterdir()) if not _into_checkout(p, checkout)]
    subprocess.run(["cp", "-al", *entries, str(target)], check=True, timeout=600)
    for data in ("share/jupyter", "etc/jupyter"):  # nbconvert's templates, Jupyter's config: data files of packages
        if (VENV / data).is_dir():
            (folder / data).parent.mkdir(parents=True, exist_ok=True)
            subprocess.run(["cp", "-al", str(VENV / data), str(folder / data)], check=True, timeout=600)
    shutil.rmtree(folder / "share" / "jupyter" / "kernels", ignore_errors=True)  # they start this venv's python
    (target / "sitecustomize.py").write_text(AUDIT_HOOK)
    return python


def install_deployed(python: Path, repository: str, commit: str, build: Path) -> list[Path]:
    """The tool and the project, built as wheels from `repository` at `commit` and installed into `python`'s venv."""
    source = build / "source"
    source.mkdir(parents=True)
    archive = subprocess.run(["git", "--git-dir", repository, "archive", "--format=tar", commit], capture_output=True,
                             check=True, timeout=120).stdout
    subprocess.run(["tar", "-x", "-C", str(source)], input=archive, check=True, timeout=120)
    wheels = build / "wheels"
    for project in (source / "airnub", source):  # pip's build isolation fetches the build backend, as an image build
        done = subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir",
                               str(wheels), str(project)], timeout=600, capture_output=True, text=True)
        assert done.returncode == 0, f"pip wheel {project}: {done.stdout}{done.stderr[-3000:]}"
    built = sorted(wheels.glob("*.whl"))
    subprocess.run([python, "-m", "pip", "install", "--quiet", "--no-deps", "--no-index", *map(str, built)],
                   check=True, timeout=600, capture_output=True)
    subprocess.run([python, "-m", "ipykernel", "install", "--sys-prefix", "--name", KERNEL, "--display-name",
                    f"Python ({KERNEL})"], check=True, timeout=120, capture_output=True)
    return built


def remote_venv(folder: Path, checkout: Path, repository: str, commit: str) -> Path:
    """A worker machine's venv in `folder`: packages linked, the deployed commit's wheels installed; its python."""
    python = linked_venv(folder / "venv", checkout)
    install_deployed(python, repository, commit, folder / "build")
    return python


def remote_env(machine: Path, python: Path, forbidden: list[Path], **settings: str) -> dict[str, str]:
    """The environment of a process on the other `machine` (a folder): its own HOME, PREFECT_HOME and PATH, nothing
    of this process's, the audit hook armed against `forbidden`; `settings` added (API URL, storage root, ...)."""
    home = machine / "home"  # the system's temporary folder stays: kernels' socket paths must stay short
    (home / ".prefect").mkdir(parents=True, exist_ok=True)
    return {"HOME": str(home), "PREFECT_HOME": str(home / ".prefect"), "LANG": "C.UTF-8",
            "PATH": f"{python.parent}{os.pathsep}/usr/bin{os.pathsep}/bin",
            "AIRNUB_AUDIT_FORBIDDEN": os.pathsep.join(str(p.resolve()) for p in forbidden),
            "AIRNUB_AUDIT_LOG": str(machine / "audit.log"), "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            "PREFECT_WORKER_QUERY_SECONDS": "1", **settings}


def worker_command(python: Path, pool: str, limit: int = 1) -> list[str]:
    """A process worker on `pool`, `limit` flow runs at once, as a worker machine starts it (no Makefile there)."""
    return [str(python), "-m", "airnub.services.worker", "--pool", pool, "--type", "process", "--limit", str(limit)]
