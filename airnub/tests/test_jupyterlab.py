"""`make lab`: JupyterLab opens on the project folder and offers the project kernel first.

The test starts the JupyterLab command `make lab` runs (read with `make -n`), on a free port without a browser,
and asks its server what a user's browser would: the folder it shows and the kernel a new notebook gets.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import urllib.request
from urllib.error import URLError

from airnub.testing.helpers import KERNEL, PROJECT_ROOT, free_port, wait_for

TOKEN = "lab-test"


def _get(port: int, path: str) -> dict | None:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}?token={TOKEN}", timeout=5) as answer:
            return json.load(answer)
    except (URLError, OSError):
        return None


def test_jupyterlab_opens_on_the_project_folder_with_the_project_kernel_first(tmp_path):
    planned = subprocess.run(["make", "-n", "-s", "--no-print-directory", "lab"], cwd=PROJECT_ROOT, capture_output=True,
                             text=True, timeout=60)
    assert planned.returncode == 0, planned.stdout + planned.stderr
    command = shlex.split(planned.stdout.replace("\\\n", " ").splitlines()[-1])
    assert command[:2] == [".venv/bin/jupyter", "lab"], planned.stdout
    port = free_port()
    env = {**os.environ, "JUPYTER_CONFIG_DIR": str(tmp_path / "config"), "JUPYTER_RUNTIME_DIR": str(tmp_path / "run")}
    log = tmp_path / "lab.log"
    with open(log, "wb") as output:
        lab = subprocess.Popen([*command, "--no-browser", f"--port={port}", f"--IdentityProvider.token={TOKEN}"],
                               cwd=PROJECT_ROOT, env=env, stdout=output, stderr=subprocess.STDOUT)
    try:
        assert wait_for(lambda: _get(port, "/api/kernelspecs") is not None, 60), log.read_text()[-3000:]
        assert _get(port, "/api/kernelspecs")["default"] == KERNEL, "a new notebook gets the project kernel"
        shown = {entry["name"] for entry in _get(port, "/api/contents")["content"]}
        assert {"nbs", "flows", "settings.ini"} <= shown, f"it opens on the project folder: {sorted(shown)}"
    finally:
        lab.terminate()
        try:
            lab.wait(timeout=30)
        except subprocess.TimeoutExpired:
            lab.kill()
            lab.wait(timeout=10)
