"""Scaffold a task: a notebook in nbs/core/ exporting its function (nbdev-export runs), the thin task
wrapper and its config, wired into the category flow (or the stage flow); with --notebook-task a
report notebook in nbs/reports/ run by the papermill task.

Usage: python scripts/generators/add_task.py --department ID --stage STAGE [--category ID]
       --name "smooth readings" [--notebook-task] [--dry-run] [--yes]
The same as `airnub new task`; the implementation is airnub/src/airnub/scaffolding/.
"""

import sys
from pathlib import Path

# This checkout's own flows and package come first, also in a copy of the project that is not installed.
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from airnub.scaffolding.command import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main("task"))
