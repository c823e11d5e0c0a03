"""Scaffold a category: its flow with a tasks/ package and a config, run by the stage flow
behind a `run_<category>` parameter.

Usage: python scripts/generators/add_category.py --department ID --stage STAGE --name "Tide Gauges" [--dry-run] [--yes]
The same as `airnub new category`; the implementation is airnub/src/airnub/scaffolding/.
"""

import sys
from pathlib import Path

# This checkout's own flows and package come first, also in a copy of the project that is not installed.
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from airnub.scaffolding.command import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main("category"))
