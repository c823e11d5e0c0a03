"""Flow configuration: a Prefect Variable per YAML file in configs/variables/, the file as fallback.

The layout mirrors flows/: `configs/variables/dept_<id>/<stage>/<category>.yaml` configures a
category flow and becomes the Variable `dept_<id>__<stage>__<category>`;
`configs/variables/dept_<id>/<stage>/<category>/<task>.yaml` configures one task and becomes
`dept_<id>__<stage>__<category>__<task>`. Precedence at run time: flow parameters, then the
Variable, then the YAML file (so `make run` works on the embedded API without a sync).
"""

from __future__ import annotations

from pathlib import Path

import yaml
from prefect.variables import Variable

from airnub_prefect_starter.data_science.config_ds import load_settings

CONFIG_ROOT = Path("configs") / "variables"
SEPARATOR = "__"


def variable_name(*parts: str) -> str:
    """The Prefect Variable name of the config at `parts` (department, stage, category[, task])."""
    return SEPARATOR.join(parts)


def config_file(*parts: str, root: Path | None = None) -> Path:
    """The YAML file of the config at `parts`."""
    root = load_settings().paths.root if root is None else root
    return root / CONFIG_ROOT / Path(*parts[:-1]) / f"{parts[-1]}.yaml"


def load_config(*parts: str, overrides: dict | None = None) -> dict:
    """The config at `parts`: its Variable, else its YAML file, with non-None `overrides` on top."""
    stored = Variable.get(variable_name(*parts), default=None)
    if stored is None:
        path = config_file(*parts)
        stored = yaml.safe_load(path.read_text(encoding="utf-8")) if path.exists() else {}
    return {**stored, **{key: value for key, value in (overrides or {}).items() if value is not None}}
