"""YAML from files people edit, loaded safely: plain types only, bounded in size, aliases included.

`yaml.safe_load` builds only plain types, but it shares an aliased node instead of copying it,
so a few hundred bytes of nested aliases (a "billion laughs" document) load as a small object
that turns into billions of values the moment anything walks it (JSON encoding, comparison).
`load_yaml` counts what the document holds with every alias expanded, before constructing it,
and refuses a document over `MAX_NODES` or one whose alias refers to a node holding it. A key
named twice in one mapping is refused too (PyYAML keeps the last one without a word).
No Prefect import: the CLI can use it before any flow starts.
"""

from __future__ import annotations

from typing import Any

import yaml

MAX_NODES = 10_000  # values, keys and collections a document may hold with its aliases expanded
MAX_FILE_BYTES = 1 << 20  # the largest YAML file read


class YAMLTooLargeError(yaml.MarkedYAMLError):
    """A document that expands beyond `MAX_NODES`, or without end; `problem` says which, `problem_mark` where."""


def _expanded_size(root: yaml.Node, most: int) -> int:
    """The number of nodes under `root` with each alias expanded; `YAMLTooLargeError` past `most` or on a cycle."""
    sizes: dict[int, int] = {}
    holding: set[int] = set()

    def size(node: yaml.Node) -> int:
        if id(node) in sizes:
            return sizes[id(node)]
        if id(node) in holding:
            raise YAMLTooLargeError(problem="an alias refers to a node that holds it, so the value never ends",
                                    problem_mark=node.start_mark)
        holding.add(id(node))
        children = [] if isinstance(node, yaml.ScalarNode) else \
            node.value if isinstance(node, yaml.SequenceNode) else [part for pair in node.value for part in pair]
        sizes[id(node)] = 1 + sum(size(child) for child in children)
        holding.discard(id(node))
        return sizes[id(node)]

    if (total := size(root)) > most:
        raise YAMLTooLargeError(problem=f"its aliases expand it to {total:,} values, more than the {most:,} a "
                                        "config may hold", problem_mark=root.start_mark)
    return total


class DuplicateKeyError(yaml.MarkedYAMLError):
    """A mapping that names a key twice (PyYAML would keep the last silently); `problem_mark` is the second."""


def _refuse_duplicate_keys(node: yaml.Node, seen: set[int]) -> None:
    """`DuplicateKeyError` at the first key that a mapping under `node` repeats."""
    if id(node) in seen or isinstance(node, yaml.ScalarNode):
        return
    seen.add(id(node))
    if isinstance(node, yaml.MappingNode):
        lines: dict[tuple[str, str], int] = {}
        for key, _ in node.value:
            if isinstance(key, yaml.ScalarNode) and key.tag != "tag:yaml.org,2002:merge":
                if (key.tag, key.value) in lines:
                    raise DuplicateKeyError(problem=f"duplicate key '{key.value}' (first on line "
                                                    f"{lines[key.tag, key.value]}); keep one of them",
                                            problem_mark=key.start_mark)
                lines[key.tag, key.value] = key.start_mark.line + 1
    for child in node.value if isinstance(node, yaml.SequenceNode) else [p for pair in node.value for p in pair]:
        _refuse_duplicate_keys(child, seen)


def key_lines(text: str) -> dict[str, int]:
    """The line (from 1) of each top-level key of the mapping in `text` (empty for anything else)."""
    node = yaml.compose(text, Loader=yaml.SafeLoader)
    return {key.value: key.start_mark.line + 1 for key, _ in node.value
            if isinstance(key, yaml.ScalarNode)} if isinstance(node, yaml.MappingNode) else {}


def load_yaml(text: str, max_nodes: int = MAX_NODES) -> Any:
    """The one document in `text`, as `yaml.safe_load` builds it; `yaml.YAMLError` when it is not one or too large."""
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        _expanded_size(node, max_nodes)
        _refuse_duplicate_keys(node, set())
        return loader.construct_document(node)
    except RecursionError as error:  # nesting deeper than the interpreter's stack
        raise YAMLTooLargeError(problem="nested too deeply") from error
    finally:
        loader.dispose()
