"""Scaffold a department: its folder under flows/ with three stage flows and a pipeline flow, their configs,
its entry in airnub/src/airnub/orchestration/departments.py and its deployments in prefect.local.yaml.

Usage: python scripts/generators/add_department.py --name "Harbour Ops" [--id dept_harbour_ops] [--dry-run] [--yes]
The same as `airnub new department`; the implementation is airnub/src/airnub/scaffolding/.
"""

import sys
from pathlib import Path

# This checkout's own flows and package come first, also in a copy of the project that is not installed.
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from airnub.scaffolding.command import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main("department"))
