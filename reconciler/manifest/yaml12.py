"""PyYAML readers that type plain scalars by the YAML 1.2 core schema, as the editor's YAML language server does.

PyYAML implements YAML 1.1: `yes`, `on` and `off` are booleans, `16:00` is the number 960 (base 60), `017` is
octal 15, `1_000` is 1000 and `2001-12-14` a date. redhat's yaml-language-server reads YAML 1.2 (eemeli/yaml,
core schema), where all of these but `017` (decimal 17) are text, and `0o17` and `1e3` are numbers. A manifest
means what the editor shows (issue 18): only the core schema's tags (null, bool, int, float, str, seq, map) exist
here, with the same patterns (YAML 1.2.2, section 10.3.2). Merge keys (`<<`) are kept: they are a YAML 1.1
extension, but the language server applies them too when it checks a manifest against the schema.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import yaml

# (pattern, base, prefix to skip): decimal (a leading zero too: `017` is 17), octal `0o17`, hexadecimal `0x1F`
_INT = (
    (re.compile(r"[-+]?[0-9]+\Z"), 10, 0),
    (re.compile(r"0o[0-7]+\Z"), 8, 2),
    (re.compile(r"0x[0-9a-fA-F]+\Z"), 16, 2),
)
_FLOAT = re.compile(r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?\Z")
_INFINITY = re.compile(r"[-+]?\.(?:inf|Inf|INF)\Z")
_NAN = re.compile(r"\.(?:nan|NaN|NAN)\Z")
_TRUE = ("true", "True", "TRUE")
_FALSE = ("false", "False", "FALSE")
_NULL = ("~", "null", "Null", "NULL", "")  # and an empty value

_TAG = "tag:yaml.org,2002:"


def _alternatives(words: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile("(?:" + "|".join(map(re.escape, words)) + r")\Z")


# Tried in this order for a plain scalar, by its first character, as PyYAML's resolver does: a number that fits
# the int pattern is an int before it is a float. Anything else is a string.
_DIGITS = tuple("0123456789")
_RESOLVED: list[tuple[str, re.Pattern[str], tuple[str, ...]]] = [
    (_TAG + "null", _alternatives(_NULL), ("~", "n", "N", "")),
    (_TAG + "bool", _alternatives(_TRUE + _FALSE), tuple("tTfF")),
    *((_TAG + "int", pattern, ("-", "+", *_DIGITS)) for pattern, _, _ in _INT),
    (_TAG + "float", _FLOAT, ("-", "+", ".", *_DIGITS)),
    (_TAG + "float", _INFINITY, ("-", "+", ".")),
    (_TAG + "float", _NAN, (".",)),
    (_TAG + "merge", re.compile(r"<<\Z"), ("<",)),
]
_RESOLVERS: dict[str | None, list[tuple[str, re.Pattern[str]]]] = {}
for _tag, _pattern, _first in _RESOLVED:
    for _character in _first:
        _RESOLVERS.setdefault(_character, []).append((_tag, _pattern))


def _not_a(kind: str, text: str, node: yaml.ScalarNode) -> yaml.constructor.ConstructorError:
    """An explicit tag on text its type cannot read (`!!int ten`, `!!bool yes`)."""
    return yaml.constructor.ConstructorError(None, None, f"{text!r} is not a YAML 1.2 {kind}", node.start_mark)


def _construct_int(loader: yaml.constructor.SafeConstructor, node: yaml.ScalarNode) -> int:
    text = loader.construct_scalar(node)
    for pattern, base, prefix in _INT:
        if pattern.match(text):
            return int(text[prefix:], base)
    raise _not_a("int", text, node)


def _construct_float(loader: yaml.constructor.SafeConstructor, node: yaml.ScalarNode) -> float:
    text = loader.construct_scalar(node)
    if _FLOAT.match(text):
        return float(text)
    if _INFINITY.match(text) or _NAN.match(text):
        return float(text.replace(".", ""))  # `-.inf` is Python's `-inf`, `.NaN` its `NaN`
    raise _not_a("float", text, node)


def _construct_bool(loader: yaml.constructor.SafeConstructor, node: yaml.ScalarNode) -> bool:
    text = loader.construct_scalar(node)
    if text in _TRUE + _FALSE:
        return text in _TRUE
    raise _not_a("bool", text, node)


_safe = yaml.constructor.SafeConstructor
# PyYAML hands a constructor whichever node carries its tag (`!!int [1]` is a sequence: construct_scalar refuses it).
_Constructor = Callable[[_safe, Any], object]
# The core schema's tags only: `!!timestamp`, `!!binary`, `!!set` and the like are YAML 1.1 types, refused as
# "could not determine a constructor" (as any unknown tag is) rather than read into dates or bytes.
_CONSTRUCTORS: dict[str | None, _Constructor] = {
    _TAG + "null": _safe.construct_yaml_null,
    _TAG + "bool": _construct_bool,
    _TAG + "int": _construct_int,
    _TAG + "float": _construct_float,
    _TAG + "str": _safe.construct_yaml_str,
    _TAG + "seq": _safe.construct_yaml_seq,
    _TAG + "map": _safe.construct_yaml_map,
    _TAG + "merge": _safe.construct_yaml_str,  # `<<` as a value is text; as a key, mappings merge it first
    None: _safe.construct_undefined,
}

# The scalar tags, and how each is read: yaml_source.py builds a plain tree with these, without PyYAML's constructor.
SCALARS = {_TAG + kind: _CONSTRUCTORS[_TAG + kind] for kind in ("str", "null", "bool", "int", "float")}

_DEFAULT_TAGS: dict[type[yaml.Node], str] = {
    yaml.ScalarNode: _TAG + "str",
    yaml.SequenceNode: _TAG + "seq",
    yaml.MappingNode: _TAG + "map",
}


def _resolve(_: object, kind: type[yaml.Node], value: str | None, implicit: Any) -> str:
    """PyYAML's `BaseResolver.resolve` for these resolvers, without its path resolvers (none exist here): it is
    called for every node, and was 0.6 s of reading a 20,000-database fleet's 330,000 nodes (issue 16)."""
    if kind is yaml.ScalarNode and implicit[0]:
        assert value is not None
        for tag, pattern in _RESOLVERS.get(value[:1], ()):  # value[:1]: the empty value has its own entry
            if pattern.match(value):
                return tag
    return _DEFAULT_TAGS[kind]


class Yaml12Loader(yaml.SafeLoader):
    """PyYAML's pure-Python reader, with the YAML 1.2 core schema."""

    yaml_implicit_resolvers = _RESOLVERS
    yaml_constructors = _CONSTRUCTORS
    resolve = _resolve


LOADERS: list[type[yaml.SafeLoader] | type[yaml.CSafeLoader]] = [Yaml12Loader]  # the fastest first

if yaml.__with_libyaml__:  # on the usual wheels: libyaml's parser is ~10x faster than pure Python

    class CYaml12Loader(yaml.CSafeLoader):
        """libyaml's reader, with the YAML 1.2 core schema (PyYAML resolves and constructs in Python for both)."""

        yaml_implicit_resolvers = _RESOLVERS
        yaml_constructors = _CONSTRUCTORS
        resolve = _resolve

    LOADERS.insert(0, CYaml12Loader)


def unsupported_version(text: str) -> tuple[int, str] | None:
    """The line and version of a `%YAML` directive other than 1.2 before the document: under `%YAML 1.1` the
    language server reads `yes` as true, so a manifest that asks for it cannot mean the same to both."""
    start = 1 if text.startswith("\ufeff") else 0
    number = 0
    while start < len(text):
        end = text.find("\n", start)
        end = len(text) if end < 0 else end
        line = text[start:end]
        number += 1
        start = end + 1
        if line.startswith(("%YAML ", "%YAML\t")):
            version = line[len("%YAML") :].split("#")[0].strip()
            if version != "1.2":
                return number, version
        elif not (line.startswith("%") or line.strip() == "" or line.lstrip().startswith("#")):
            return None  # directives come before the document's first line; past it, `%` is text
    return None
