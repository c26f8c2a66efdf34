"""Read one YAML file safely, keeping the line and column of every key and value.

Limits (SPEC §10) are checked before anything is built, so a hostile file fails in well under a second:
size, nesting depth (checked on the event stream, which is iterative) and alias expansion ("billion laughs").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from reconciler.model import Position

# libyaml's parser when PyYAML was built with it (it is on the usual wheels): ~10x faster than pure Python.
_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

MAX_BYTES = 10 * 1024 * 1024
MAX_DEPTH = 64
MAX_EXPANDED_NODES = 100_000

JsonPath = tuple[str | int, ...]
Problem = tuple[Position, str]  # where, and what is wrong and how to fix it


class YamlProblem(Exception):
    """A file that cannot be read as YAML; `position` is where the reader stopped."""

    def __init__(self, position: Position, message: str) -> None:
        self.position = position
        super().__init__(message)


@dataclass(frozen=True, slots=True)
class Marks:
    key: Position | None  # where the key was written (None for list items and the root)
    value: Position
    text: str | None  # the scalar as written, before YAML typed it (so `04:00` can be explained)


@dataclass(slots=True)
class YamlDocument:
    path: str
    raw: bytes
    data: Any
    marks: dict[JsonPath, Marks] = field(default_factory=dict)

    def position(self, path: JsonPath, *, of_key: bool = False) -> Position:
        """The closest known position for a path: its key's or its value's, else its nearest parent's."""
        while True:
            marks = self.marks.get(path)
            if marks is not None:
                return marks.key if of_key and marks.key is not None else marks.value
            if not path:
                return Position(self.path, 1, 1)
            path = path[:-1]


def read_yaml(path: Path, display: str) -> YamlDocument:
    if path.stat().st_size > MAX_BYTES:
        raise YamlProblem(Position(display, 1, 1), f"file is larger than {MAX_BYTES // (1024 * 1024)} MB")
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise YamlProblem(Position(display, 1, 1), f"file is not UTF-8 text ({exc.reason})") from None
    _check_depth(text, display)
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            raise YamlProblem(Position(display, 1, 1), "file is empty — it needs `version: 1` and `databases:`")
        _check_duplicate_keys(node, display)
        _check_expansion(node, display)
        data = loader.construct_document(node)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = _position(display, mark) if mark else Position(display, 1, 1)
        raise YamlProblem(where, f"not valid YAML: {exc.problem or exc.context}") from None
    except yaml.YAMLError as exc:
        raise YamlProblem(Position(display, 1, 1), f"not valid YAML: {exc}") from None
    finally:
        loader.dispose()
    document = YamlDocument(display, raw, data)
    _index(node, (), None, document)
    return document


def _position(display: str, mark: Any) -> Position:
    """PyYAML's marks are 0-based (and typed loosely in its stubs); ours are 1-based."""
    if mark is None:
        return Position(display, 1, 1)
    return Position(display, mark.line + 1, mark.column + 1)


def _check_depth(text: str, display: str) -> None:
    depth = 0
    try:
        for event in yaml.parse(text, Loader=_Loader):
            if isinstance(event, yaml.CollectionStartEvent):
                depth += 1
                if depth > MAX_DEPTH:
                    raise YamlProblem(_position(display, event.start_mark), f"nested deeper than {MAX_DEPTH} levels")
            elif isinstance(event, yaml.CollectionEndEvent):
                depth -= 1
    except yaml.MarkedYAMLError as exc:
        raise _yaml_problem(display, exc) from None


def _yaml_problem(display: str, exc: yaml.MarkedYAMLError) -> YamlProblem:
    where = _position(display, exc.problem_mark or exc.context_mark)
    problem = str(exc.problem or exc.context)
    if "nesting depth" in problem:  # libyaml stops at its own limit while scanning ahead of our check
        return YamlProblem(where, f"nested deeper than {MAX_DEPTH} levels")
    return YamlProblem(where, f"not valid YAML: {problem}")


def _check_duplicate_keys(root: yaml.Node, display: str) -> None:
    seen_nodes: set[int] = set()
    stack = [root]
    while stack:
        node = stack.pop()
        if id(node) in seen_nodes:
            continue
        seen_nodes.add(id(node))
        if isinstance(node, yaml.MappingNode):
            keys: set[str] = set()
            for key, value in node.value:
                if isinstance(key, yaml.ScalarNode) and key.value != "<<":
                    if key.value in keys:
                        raise YamlProblem(
                            _position(display, key.start_mark), f"duplicate key '{key.value}' — keep only one"
                        )
                    keys.add(key.value)
                stack.extend((key, value))
        elif isinstance(node, yaml.SequenceNode):
            stack.extend(node.value)


def _check_expansion(root: yaml.Node, display: str) -> None:
    """Aliases share nodes; count the tree as if every alias were written out."""
    sizes: dict[int, int] = {}

    def size(node: yaml.Node) -> int:
        known = sizes.get(id(node))
        if known is not None:
            return known
        total = 1
        if isinstance(node, yaml.MappingNode):
            total += sum(size(k) + size(v) for k, v in node.value)
        elif isinstance(node, yaml.SequenceNode):
            total += sum(size(item) for item in node.value)
        total = min(total, MAX_EXPANDED_NODES + 1)
        sizes[id(node)] = total
        return total

    if size(root) > MAX_EXPANDED_NODES:
        raise YamlProblem(
            _position(display, root.start_mark),
            f"aliases expand past {MAX_EXPANDED_NODES:,} nodes — write the data out or use fewer aliases",
        )


def _index(node: yaml.Node, path: JsonPath, key: yaml.Node | None, document: YamlDocument) -> None:
    """Record positions for every path (after merge keys were flattened by construction)."""
    if len(document.marks) > MAX_EXPANDED_NODES:
        return
    key_position = _position(document.path, key.start_mark) if key is not None else None
    text = node.value if isinstance(node, yaml.ScalarNode) else None
    document.marks[path] = Marks(key_position, _position(document.path, node.start_mark), text)
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            if isinstance(key_node, yaml.ScalarNode):
                _index(value_node, (*path, key_node.value), key_node, document)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _index(item, (*path, i), None, document)
