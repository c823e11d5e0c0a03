"""`airnub settings`: the project's settings as the tool reads them (settings.ini plus AIRNUB_* overrides).

`airnub settings get KEY` prints one value; `airnub settings show` prints every `key=value`, the form the
Makefile reads (one process for all its settings). Values are the model's (`airnub.engine.settings`):
folders absolute, defaults filled in, every rule checked. The kernel is not checked to be installed: the
Makefile asks for its name before `make setup` registers it. Only the standard library is imported, so
`make help` stays fast; before `make setup` the Makefile runs this module with the system's Python
(`python3 -m airnub.cli.settings_command show`).
"""

from __future__ import annotations

import argparse
import sys

from airnub.engine.settings import load_settings, settings_items


def add_settings_command(commands: argparse._SubParsersAction) -> None:
    """`settings get KEY` and `settings show`, on the `airnub` parser's subcommands."""
    settings = commands.add_parser("settings", help="the project's settings (settings.ini with AIRNUB_* overrides)")
    actions = settings.add_subparsers(dest="action", required=True)
    actions.add_parser("get", help="print one setting's value").add_argument("key", help="a key of settings.ini")
    actions.add_parser("show", help="print every setting as key=value")
    settings.set_defaults(handler=answer)


def answer(args: argparse.Namespace) -> int:
    """Print the value of `args.key`, or every `key=value`; 2 with a one-line message for a bad key or file."""
    try:
        items = settings_items(load_settings(check_kernel=False))
    except (ValueError, KeyError, FileNotFoundError) as error:  # their messages name file, key and what was expected
        print(f"airnub: {error.args[0]}", file=sys.stderr)
        return 2
    if args.action == "show":
        print("\n".join(f"{key}={value}" for key, value in items.items()))
        return 0
    if args.key not in items:
        print(f"airnub: settings.ini has no key {args.key!r}; keys: {', '.join(items)}", file=sys.stderr)
        return 2
    print(items[args.key])
    return 0


if __name__ == "__main__":  # the Makefile before `make setup`: no console script yet
    parser = argparse.ArgumentParser(prog="airnub")
    add_settings_command(parser.add_subparsers(dest="command", required=True))
    sys.exit(answer(parser.parse_args(["settings", *sys.argv[1:]])))
