"""Read one YAML file safely, keeping the line and column of every key and value.

Limits (SPEC §10) are checked before anything is built, so a hostile file fails in well under a second:
size, nesting depth (checked on the event stream, which is iterative) and alias expansion ("billion laughs").
Only regular files are read (a FIFO or a device is refused by what it is: `input_files.py`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from reconciler.core.desired import Position
from reconciler.input_files import MAX_BYTES, MAX_DEPTH, InputFileProblem, read_limited
from reconciler.manifest.yaml12 import LOADERS, SCALARS, Yaml12Loader, unsupported_version

_Loader: Any = LOADERS[0]  # libyaml's parser when PyYAML was built with it; scalars are typed as YAML 1.2

MAX_EXPANDED_NODES = 100_000  # nodes that aliases add; the nodes written out count only against MAX_BYTES
MAX_INT_DIGITS = 100  # ids are int32 (OpenAPI); a longer integer is a mistake, and past 4,300 digits a crash
_ECHOED = 200  # characters of a value that a message quotes (a URI fits; a 1 MB value does not)

JsonPath = tuple[str | int, ...]


class YamlProblem(Exception):
    """A file that cannot be read as YAML; `position` is where the reader stopped."""

    def __init__(self, position: Position, message: str) -> None:
        self.position = position
        super().__init__(message)


@dataclass(slots=True)
class YamlDocument:
    """The data, and the node tree it came from: positions are looked up on demand (most runs need few)."""

    path: str
    raw: bytes
    data: Any
    root: yaml.Node

    def position(self, path: JsonPath, *, of_key: bool = False) -> Position:
        """Where a path was written (its key's position with `of_key`), else its nearest written parent."""
        key, node, _ = self._walk(path)
        return _position(self.path, key.start_mark if of_key and key is not None else node.start_mark)

    def text(self, path: JsonPath) -> str | None:
        """A scalar as written, before YAML typed it (so `16:00` read as a number can be explained)."""
        _, node, found = self._walk(path)
        return node.value if found and isinstance(node, yaml.ScalarNode) else None

    def item_texts(self, path: JsonPath) -> list[dict[str, str]]:
        """For the list at `path`: each mapping item's scalars as written, by key (one walk, not one per item)."""
        _, node, found = self._walk(path)
        if not found or not isinstance(node, yaml.SequenceNode):
            return []
        return [
            {
                key.value: value.value
                for key, value in item.value
                if isinstance(key, yaml.ScalarNode) and isinstance(value, yaml.ScalarNode)
            }
            if isinstance(item, yaml.MappingNode)
            else {}
            for item in node.value
        ]

    def _walk(self, path: JsonPath) -> tuple[yaml.Node | None, yaml.Node, bool]:
        key: yaml.Node | None = None
        node = self.root
        for part in path:
            child: tuple[yaml.Node | None, yaml.Node] | None = None
            if isinstance(node, yaml.MappingNode):
                for key_node, value_node in node.value:  # the last one wins, as in construction (merge keys)
                    if isinstance(key_node, yaml.ScalarNode) and key_node.value == part:
                        child = (key_node, value_node)
            elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and 0 <= part < len(node.value):
                child = (None, node.value[part])
            if child is None:
                return key, node, False
            key, node = child
        return key, node, True


def shown(value: Any) -> str:
    """A value as a message quotes it: its repr, cut short (a 1 MB bad value is not echoed back in full)."""
    text = repr(value)
    if len(text) <= _ECHOED:
        return text
    size = f" ({len(value):,} characters)" if isinstance(value, str) else ""
    return f"{text[:_ECHOED]}...{size}"


def clipped(text: str) -> str:
    """Text quoted as it is, cut short like `shown`."""
    return text if len(text) <= _ECHOED else f"{text[:_ECHOED]}... ({len(text):,} characters)"


def read_yaml(path: Path, display: str) -> YamlDocument:
    try:
        raw = read_limited(path, MAX_BYTES)
    except InputFileProblem as exc:
        raise YamlProblem(Position(display, 1, 1), str(exc)) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise YamlProblem(Position(display, 1, 1), f"file is not UTF-8 text ({exc.reason})") from None
    directive = unsupported_version(text)
    if directive is not None:
        line, version = directive
        raise YamlProblem(
            Position(display, line, 1),
            f"%YAML {version}: manifests are read as YAML 1.2 (yes, no, on and off are text; true and false are "
            "booleans) — remove this line",
        )
    if _Loader is Yaml12Loader:  # PyYAML's own composer recurses; libyaml's stops at its own limit
        _check_depth(text, display)
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            raise YamlProblem(Position(display, 1, 1), "file is empty — it needs `version: 1` and `databases:`")
        data = _plain_data(node, loader)
        if data is _NOT_PLAIN:  # PyYAML's own way, which names the problem, or builds what aliases share
            _check_tree(node, display)
            data = loader.construct_document(node)
    except yaml.MarkedYAMLError as exc:
        raise _yaml_problem(display, exc) from None
    except yaml.YAMLError as exc:
        raise YamlProblem(Position(display, 1, 1), f"not valid YAML: {exc}") from None
    finally:
        loader.dispose()
    return YamlDocument(display, raw, data, node)


_NOT_PLAIN = object()
_STR, _INT, _SEQ, _MAP = (f"tag:yaml.org,2002:{kind}" for kind in ("str", "int", "seq", "map"))
_OTHER_SCALARS = {tag: construct for tag, construct in SCALARS.items() if tag != _STR}


class _NotPlain(Exception):
    """The tree is not plain data (below), or breaks a rule `_check_tree` would name."""


def _plain_data(root: yaml.Node, loader: Any) -> Any:
    """The data of a tree that is plain, checked and built in one walk (issue 16: `_check_tree` and PyYAML's
    constructor were 2.3 s of reading 20,000 databases); `_NOT_PLAIN` for any other. Plain: no alias, no merge
    key, only the core schema's tags, scalar keys written once, within MAX_DEPTH and MAX_INT_DIGITS. For such a
    tree the rules of `_check_tree` hold and PyYAML would build the same dicts, lists and scalars; anything else,
    a problem included, goes the long way round, so every message stays as it was."""
    try:
        return _build(root, 1, set(), loader)
    except (_NotPlain, yaml.YAMLError):  # a scalar its tag cannot read (`!!int ten`): said the long way
        return _NOT_PLAIN


def _build(node: yaml.Node, depth: int, seen: set[int], loader: Any) -> Any:
    """Recursive, as deep as MAX_DEPTH at most; a function of the module, not a closure: a closure that calls
    itself is a reference cycle, and with the collector off while manifests load (load.py) each file's would stay."""
    if depth > MAX_DEPTH + 1 or id(node) in seen:  # too deep, or an alias (a node met twice)
        raise _NotPlain
    seen.add(id(node))
    kind, tag = type(node), node.tag
    if kind is yaml.ScalarNode:
        if tag == _STR:
            return node.value
        construct = _OTHER_SCALARS.get(tag)
        if construct is None or (tag == _INT and len(node.value) > MAX_INT_DIGITS):
            raise _NotPlain
        return construct(loader, node)
    if kind is yaml.SequenceNode and tag == _SEQ:
        return [_build(item, depth + 1, seen, loader) for item in node.value]
    if kind is not yaml.MappingNode or tag != _MAP:
        raise _NotPlain
    mapping: dict[Any, Any] = {}
    keys: set[str] = set()
    for key, value in node.value:
        if type(key) is not yaml.ScalarNode or key.value in keys or key.value == "<<":
            raise _NotPlain
        keys.add(key.value)
        # A plain-text key or value is read here rather than by a call of its own: two in three nodes are (0.3 s
        # of reading 20,000 databases). As `_build` would, each node is counted once, so an alias is still seen.
        if key.tag == _STR and id(key) not in seen:
            seen.add(id(key))
            name = key.value
        else:
            name = _build(key, depth + 1, seen, loader)
        if type(value) is yaml.ScalarNode and value.tag == _STR and id(value) not in seen and depth <= MAX_DEPTH:
            seen.add(id(value))
            mapping[name] = value.value
        else:
            mapping[name] = _build(value, depth + 1, seen, loader)
    return mapping


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


def _check_tree(root: yaml.Node, display: str) -> None:
    """One pass over the node graph: duplicate keys, aliases that contain themselves, and the height and size
    the tree would have with every alias written out (a chain of aliases nests deeper than any line shows,
    and "billion laughs" expands past any memory). Iterative: the graph is hostile until proven otherwise."""
    sizes: dict[int, int] = {}
    heights: dict[int, int] = {}
    ancestors: set[int] = set()
    stack: list[tuple[yaml.Node, list[yaml.Node] | None]] = [(root, None)]  # children once expanded
    while stack:
        node, expanded = stack.pop()
        if expanded is not None:
            ancestors.discard(id(node))
            sizes[id(node)] = min(_SIZE_CAP, 1 + sum(sizes[id(c)] for c in expanded))
            heights[id(node)] = 1 + max((heights[id(c)] for c in expanded), default=0)
            continue
        if id(node) in sizes:
            continue
        if isinstance(node, yaml.ScalarNode):
            _check_scalar(node, display)
            sizes[id(node)] = heights[id(node)] = 1
            continue
        if id(node) in ancestors:
            raise YamlProblem(
                _position(display, node.start_mark),
                "an alias refers to its own anchor — a structure that contains itself cannot be a manifest",
            )
        if isinstance(node, yaml.MappingNode):
            _check_keys(node, display)
        children = _children(node)
        ancestors.add(id(node))
        stack.append((node, children))
        stack.extend((child, None) for child in children if id(child) not in sizes)
    if heights[id(root)] > MAX_DEPTH + 1:  # a scalar is a level here; only collections count in _check_depth
        raise YamlProblem(_position(display, root.start_mark), f"nested deeper than {MAX_DEPTH} levels")
    # Every distinct node has one entry in `sizes`; the rest of the expanded size is what aliases add (issue 20:
    # counting every node refused a plain 15,000-database file).
    if sizes[id(root)] - len(sizes) > MAX_EXPANDED_NODES:
        raise YamlProblem(
            _position(display, root.start_mark),
            f"aliases expand past {MAX_EXPANDED_NODES:,} nodes — write the data out or use fewer aliases",
        )


_SIZE_CAP = 1 << 48  # far above any node count a file within MAX_BYTES can hold, so the difference stays exact


def _check_scalar(node: yaml.ScalarNode, display: str) -> None:
    if node.tag == _INT and len(node.value) > MAX_INT_DIGITS:
        raise YamlProblem(
            _position(display, node.start_mark),
            f"a number of {len(node.value):,} characters — no id is that long; write the id Redis Cloud shows",
        )


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def _check_keys(node: yaml.MappingNode, display: str) -> None:
    keys: set[str] = set()
    for key, _ in node.value:
        if isinstance(key, yaml.ScalarNode) and key.value != "<<":
            if key.value in keys:
                where = _position(display, key.start_mark)
                raise YamlProblem(where, f"duplicate key {shown(key.value)} — keep only one")
            keys.add(key.value)
