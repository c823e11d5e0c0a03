"""Names of generated things: a display name becomes a snake_case identifier, or a clear refusal."""

from __future__ import annotations

import keyword
import re
from dataclasses import dataclass

from airnub.orchestration.departments import STAGES

MAX_IDENTIFIER = 30  # keeps generated import lines and flow names readable
RESERVED = {"tasks", "common", "pipeline", *STAGES}  # folder and flow names the layout already uses


class ScaffoldError(ValueError):
    """Input a generator refuses, or a project it cannot change safely; nothing has been written."""


def identifier(text: str, field: str) -> str:
    """The snake_case identifier of `text` ("Tide Gauges" -> "tide_gauges"), or ScaffoldError naming `field`."""
    if not text or not text.strip():
        raise ScaffoldError(f"{field}: expected a name, got an empty one")
    if "/" in text or "\\" in text:
        raise ScaffoldError(f"{field}: {text!r} contains a path separator; expected a plain name such as 'Tide Gauges'")
    if not re.fullmatch(r"[A-Za-z0-9 _\-]+", text.strip()):
        raise ScaffoldError(f"{field}: {text!r} may hold only ASCII letters, digits, spaces, '-' and '_'")
    words = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", text.strip())
    name = re.sub(r"[^a-z0-9]+", "_", words.lower()).strip("_")
    if not name:
        raise ScaffoldError(f"{field}: {text!r} holds no letters or digits")
    if name[0].isdigit():
        raise ScaffoldError(f"{field}: {text!r} starts with a digit; expected a name that starts with a letter")
    if keyword.iskeyword(name) or keyword.issoftkeyword(name):
        raise ScaffoldError(f"{field}: {text!r} is a Python keyword; expected another name")
    if len(name) > MAX_IDENTIFIER:
        raise ScaffoldError(f"{field}: {name!r} is longer than {MAX_IDENTIFIER} characters; expected a shorter name")
    return name


def department_id(text: str) -> str:
    """The short id of a department from `--id` (`dept_harbour_ops` and `harbour_ops` both give `harbour_ops`)."""
    return identifier(text.strip().removeprefix("dept_"), "department id")


def component(text: str, field: str) -> str:
    """A category or task identifier: as `identifier`, and none of the names the layout already uses."""
    name = identifier(text, field)
    if name in RESERVED:
        raise ScaffoldError(f"{field}: {name!r} is a name the project layout uses; expected another name")
    return name


def stage(text: str) -> str:
    """One of the three stages, or ScaffoldError listing them."""
    if text not in STAGES:
        raise ScaffoldError(f"stage: expected one of {', '.join(STAGES)}, got {text!r}")
    return text


def title(text: str) -> str:
    """A display name tidied for titles: surrounding space removed, first letter upper case."""
    text = " ".join(text.split())
    return text[:1].upper() + text[1:]


def dashed(name: str) -> str:
    """`tide_gauges` -> `tide-gauges`, the form Prefect flow and task names take."""
    return name.replace("_", "-")


@dataclass(frozen=True)
class Department:
    """A department's names and the names of the files that hold it."""

    id: str  # short id: harbour_ops
    name: str  # display name: Harbour Ops

    @property
    def package(self) -> str:
        return f"dept_{self.id}"

    def flow_name(self, part: str) -> str:
        """The function name of the flow of `part` (a stage, `pipeline` or a category)."""
        return f"{part}_flow_dept_{self.id}"

    def prefect_name(self, part: str) -> str:
        """The dashed Prefect name of the flow of `part`."""
        return f"{dashed(part)}-dept-{dashed(self.id)}"
