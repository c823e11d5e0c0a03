"""papermill's command line, as `airnub notebook` reads it: the flags it takes, the ones it refuses, and why.

`airnub notebook IN [OUT] -p NAME VALUE ...` is the command a papermill user types. What each papermill
flag becomes is listed here once (docs/notebook-runs.md, "Coming from papermill", explains each choice).
"""

from __future__ import annotations

from pathlib import Path

PAIRS = {"-p": "text", "--parameter": "text", "--parameters": "text",
         "-r": "raw", "--raw": "raw", "--parameters_raw": "raw"}  # NAME VALUE, the VALUE taken as it is, `-x` too

# papermill's flags whose meaning is airnub's behaviour already: taken and ignored (True: the flag takes a value)
AS_IT_IS = {"--no-report-mode": False, "--prepare-execute": False, "--no-log-output": False, "--progress-bar": False,
            "--no-progress-bar": False, "--request-save-on-cell-execute": False,
            "--no-request-save-on-cell-execute": False, "--autosave-cell-every": True}

_OUTPUT = "the executed notebook and the HTML report hold every cell's output (their paths are printed after the run)"
REFUSED = {
    "--log-output": f"{_OUTPUT}; drop --log-output",
    "--stdout-file": f"{_OUTPUT}; drop --stdout-file",
    "--stderr-file": f"{_OUTPUT}; drop --stderr-file",
    "--engine": "airnub runs every notebook with papermill's own engine in the project's kernel; drop --engine",
    "-l": "airnub runs Python notebooks in the project's kernel (kernel_name in settings.ini); drop -l",
    "--language": "airnub runs Python notebooks in the project's kernel (kernel_name in settings.ini); drop --language",
    "--log-level": "Prefect's logging sets it: PREFECT_LOGGING_LEVEL=WARNING airnub notebook ...",
    "--start-timeout": "the kernel's start is bounded by the runner; drop --start-timeout",
    "--start_timeout": "the kernel's start is bounded by the runner; drop --start_timeout",
    "--help-notebook": "`airnub params NOTEBOOK` lists its parameters with their types, defaults and help",
    "--version": "`pip show airnub-prefect-starter papermill` shows both versions",
}


class CommandLineError(ValueError):
    """A papermill flag airnub does not take, or a NAME VALUE pair cut short; the message says what to use."""


def split_pairs(argv: list[str]) -> tuple[list[str], list[tuple[str, str]], list[tuple[str, str]]]:
    """`argv` without its -p/-r pairs, and the pairs (`text`, `raw`) in order: a VALUE may begin with `-` (`-inf`)."""
    rest, pairs, tokens = [], {"text": [], "raw": []}, iter(argv)
    for token in tokens:
        flag = token.partition("=")[0] if token.startswith("--") else token
        if token == "--":
            rest += [token, *tokens]
        elif token in PAIRS:
            name, value = next(tokens, None), next(tokens, None)
            if value is None:
                raise CommandLineError(f"{token} takes a NAME and a VALUE, e.g. {token} alpha 0.1")
            pairs[PAIRS[token]].append((name, value))
        elif flag in REFUSED:
            raise CommandLineError(f"{flag} (papermill's) is not taken: {REFUSED[flag]}")
        elif flag in AS_IT_IS:
            if AS_IT_IS[flag] and "=" not in token:
                next(tokens, None)
        else:
            rest.append(token)
    return rest, pairs["text"], pairs["raw"]


def injected_paths(notebook: str, output: str | None, flags: dict[str, bool]) -> dict[str, str]:
    """papermill's PAPERMILL_INPUT_PATH / PAPERMILL_OUTPUT_PATH parameters, as `--inject-*` asks (paths as given)."""
    paths = {}
    if flags["inject_paths"] or flags["inject_input_path"]:
        paths["PAPERMILL_INPUT_PATH"] = notebook
    if flags["inject_paths"] or flags["inject_output_path"]:
        if output is None:
            raise CommandLineError("--inject-output-path needs an output path: airnub notebook IN.ipynb OUT.ipynb ...")
        paths["PAPERMILL_OUTPUT_PATH"] = output
    return paths


def output_path(output: str | None) -> Path | None:
    """The output notebook papermill's second argument names, checked: a file in a folder that exists."""
    if output is None:
        return None
    if output == "-":
        raise CommandLineError("OUT '-' (the notebook on stdout) is not taken: give a file path; the executed "
                               "notebook's path is printed after the run")
    path = Path(output).resolve()
    if not path.parent.is_dir():
        raise CommandLineError(f"{output}: the output notebook's folder {path.parent} does not exist")
    return path


def kernel_note(asked: str | None, kernel: str) -> str | None:
    """One line for `-k` naming a kernel other than the project's: what runs instead."""
    if asked is None or asked == kernel:
        return None
    return (f"airnub: -k {asked}: the notebook runs in the project's kernel {kernel} instead (kernel_name in "
            "settings.ini), so that its packages are the project's")


def prepare_only(notebook: Path, output: Path | None, parameters: dict, kernel: str, report_mode: bool) -> Path:
    """papermill's `--prepare-only`: the notebook with its parameters injected, written to `output`, not run."""
    import logging

    import papermill

    logging.getLogger("papermill").setLevel(logging.ERROR)  # its own reading of the cell: ours was checked above
    if output is None:
        raise CommandLineError("--prepare-only writes the notebook with its parameters to OUT: "
                               "airnub notebook IN.ipynb OUT.ipynb --prepare-only ...")

    papermill.execute_notebook(notebook, output, parameters, prepare_only=True, kernel_name=kernel,
                               report_mode=report_mode, progress_bar=False)
    return output
