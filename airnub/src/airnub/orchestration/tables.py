"""Where generated flows and tasks read and write tables: one rule, read from settings.ini."""

from __future__ import annotations

from pathlib import Path

from airnub.engine.settings import CONFIG_ROOT, SETTINGS_FILE, load_settings


def input_table_path(input_table: str) -> Path:
    """The table to read: `input_table` relative to the storage root (where outputs live; the project folder unless
    `storage_root` names another); empty: `input_table` of settings.ini."""
    settings = load_settings()
    if input_table:
        return settings.paths.storage / input_table
    if settings.input_table is None:
        raise ValueError(f"no input_table given, and {SETTINGS_FILE} names no default input_table: "
                         "set one of them to the table to read")
    return settings.input_table


def input_table_text(input_table: str) -> str:
    """The table a flow's tasks read, for its log: its path, or where to name one while nothing names it yet."""
    if input_table or load_settings().input_table is not None:
        return str(input_table_path(input_table))
    return (f"none yet (a task needs one: input_table in the flow's config under {CONFIG_ROOT.as_posix()}/ "
            f"or in {SETTINGS_FILE})")


def output_table_path(output_folder: str, name: str) -> Path:
    """The table a task writes: `<name>.parquet` in `output_folder`, relative to the processed folder."""
    return load_settings().paths.processed / output_folder / f"{name}.parquet"
