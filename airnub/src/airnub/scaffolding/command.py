"""The command line shared by scripts/generators/add_*.py and `airnub new department|category|task`.

Flags make a command run without prompts; in a terminal, what is missing is asked for and the
plan is confirmed (unless --yes). Exit codes: 0 done or nothing to do, 1 failed while writing
(everything it wrote was undone), 2 refused (nothing written).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from airnub.engine.settings import find_project_root
from airnub.scaffolding.names import STAGES, ScaffoldError
from airnub.scaffolding.plan import Plan

KINDS = ("department", "category", "task")
ASKED = {"name": "display name", "department": "department id", "stage": f"stage ({', '.join(STAGES)})"}


def add_arguments(parser: argparse.ArgumentParser, kind: str) -> None:
    """The options of the `kind` generator."""
    parser.add_argument("--name", help={"department": 'display name, e.g. "Harbour Ops"',
                                        "category": 'display name, e.g. "Tide Gauges"',
                                        "task": 'what the task does, e.g. "smooth readings"'}[kind])
    if kind == "department":
        parser.add_argument("--id", help="short id (harbour_ops or dept_harbour_ops); default: from the name")
    else:
        parser.add_argument("--department", help="department id, e.g. harbour_ops")
        parser.add_argument("--stage", choices=STAGES, help="the stage")
    if kind == "task":
        parser.add_argument("--category", help="category id; without it the stage flow runs the task")
        parser.add_argument("--notebook-task", action="store_true",
                            help="a parameterised report notebook in nbs/reports/ run by the papermill task")
    parser.add_argument("--dry-run", action="store_true", help="print the files it would create or change; write none")
    parser.add_argument("--yes", action="store_true", help="write without asking for confirmation")
    parser.add_argument("--root", type=Path, help="project folder (default: the current project)")


def _ask(args: argparse.Namespace, field: str, interactive: bool) -> str:
    value = getattr(args, field)
    if value is None and interactive:
        value = input(f"{ASKED[field]}: ").strip()
    if value is None:
        raise ScaffoldError(f"{field}: expected --{field} (not in a terminal, so it cannot be asked for)")
    return value


def _plan(kind: str, args: argparse.Namespace, root: Path, interactive: bool) -> Plan:
    from airnub.scaffolding.generators import plan_category, plan_department, plan_task  # nbformat: only when used

    required = ["name"] if kind == "department" else ["name", "department", "stage"]
    prompting = interactive and any(getattr(args, field) is None for field in required)
    name = _ask(args, "name", interactive)
    if kind == "department":
        return plan_department(root, name, args.id)
    department, stage = _ask(args, "department", interactive), _ask(args, "stage", interactive)
    if kind == "category":
        return plan_category(root, department, stage, name)
    if prompting and args.category is None:  # the optional choices, asked only of a user who is being asked
        args.category = input("category id (empty: the stage flow runs the task): ").strip() or None
        args.notebook_task = input("a report notebook run by papermill? [y/N] ").strip().lower() in ("y", "yes")
    return plan_task(root, department, stage, args.category, name, args.notebook_task)


def run(kind: str, args: argparse.Namespace, interactive: bool | None = None) -> int:
    """Plan, show, confirm and write what the `kind` generator makes; report refusals on stderr."""
    interactive = sys.stdin.isatty() if interactive is None else interactive
    prog = f"add_{kind}"
    try:
        root = Path(args.root).resolve() if args.root else find_project_root()
        plan = _plan(kind, args, root, interactive)
    except ScaffoldError as error:
        print(f"{prog}: {error}", file=sys.stderr)
        return 2
    lines = plan.describe()
    if not lines:
        print(f"{prog}: nothing to do, everything is in place")
        return 0
    print("\n".join(lines))
    if args.dry_run:
        return 0
    if interactive and not args.yes and input("Write these files? [y/N] ").strip().lower() not in ("y", "yes"):
        print(f"{prog}: nothing written")
        return 0
    try:
        plan.apply()
    except ScaffoldError as error:
        print(f"{prog}: {error}\n{prog}: nothing written (everything it wrote was undone)", file=sys.stderr)
        return 1
    print(f"{prog}: done")
    return 0


def main(kind: str, argv: list[str] | None = None) -> int:
    """The `add_<kind>.py` script."""
    parser = argparse.ArgumentParser(prog=f"add_{kind}.py", description=f"Scaffold a {kind} (see docs/scaffolding.md).")
    add_arguments(parser, kind)
    return run(kind, parser.parse_args(argv))


def add_new_command(commands: argparse._SubParsersAction) -> None:
    """`airnub new department|category|task`: the same options as the scripts."""
    new = commands.add_parser("new", help="scaffold a department, category or task")
    kinds = new.add_subparsers(dest="kind", required=True)
    for kind in KINDS:
        parser = kinds.add_parser(kind, help=f"scaffold a {kind}")
        add_arguments(parser, kind)
        parser.set_defaults(handler=lambda args: run(args.kind, args))
