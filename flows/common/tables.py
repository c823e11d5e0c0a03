"""Where generated flows and tasks read and write tables: one rule, read from settings.ini."""

from __future__ import annotations

from pathlib import Path

from airnub_prefect_starter.data_science.config_ds import load_settings


def input_table_path(input_table: str) -> Path:
    """The table to read: `input_table` relative to the project root; empty: the processed feature table."""
    paths = load_settings().paths
    return paths.root / input_table if input_table else paths.features


def output_table_path(output_folder: str, name: str) -> Path:
    """The table a task writes: `<name>.parquet` in `output_folder`, relative to the processed folder."""
    return load_settings().paths.processed / output_folder / f"{name}.parquet"
