"""The manifest JSON Schema, shipped inside the package, and its errors in words a person can act on.

Two validators read the same schema: fastjsonschema's compiled one says whether a document is valid (0.2 s for
20,000 databases, where jsonschema takes 3 s: issue 16), and only a document it rejects is read again by jsonschema,
whose errors carry the paths and keywords that the messages below are made of. So a valid manifest never imports
jsonschema (issue 7's start-up).
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Callable, Iterator
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Any

import fastjsonschema

from reconciler.core.ownership import OWNER_RULE
from reconciler.manifest.problems import Problem
from reconciler.manifest.yaml_source import JsonPath, YamlDocument, shown

if TYPE_CHECKING:
    import jsonschema

SUPPORTED_VERSIONS = (1,)
_HINTS = {
    "name": "use lowercase letters, digits and '-', starting with a letter or digit, at most 40 characters",
    "id": "use lowercase letters, digits and '-', starting with a letter or digit, at most 40 characters",
    "max_age": "write days, hours and minutes in that order, such as 26h, 2d, 90m or 1d12h",
    "owner": "use " + OWNER_RULE,
    # A region's name, as a key of `backup.regions` (propertyNames) or as a backup's `region:`.
    "regions": "name a region as Redis Cloud reports it (crdbDatabases[].region): lowercase letters, digits and '-', "
    "e.g. us-east-1",
    "region": "name a region as Redis Cloud reports it (crdbDatabases[].region): lowercase letters, digits and '-', "
    "e.g. us-east-1",
    "into": "use lowercase letters, digits and '-', starting with a letter or digit, at most 40 characters",
    "every": "write whole hours or days, e.g. 12h or 7d",
}
# A required key whose absence needs more than its name to fix.
_REQUIRED_HINTS = {
    "confirm": "an import overwrites all data in its database: add `confirm:` with the database's name as "
    "Redis Cloud shows it (plan checks it against the live name)",
}
_TYPE_WORDS = {
    "integer": "a whole number",
    "string": "a string",
    "boolean": "true or false",
    "object": "a mapping",
    "array": "a list",
}


def schema_text() -> str:
    return resources.files("reconciler").joinpath("schemas/manifest.v1.json").read_text("utf-8")


def _is_integer(_: Any, instance: Any) -> bool:
    """JSON Schema counts 1.0 as an integer; an id written `1.0` would be sent as `/databases/1.0` (issue 20)."""
    return isinstance(instance, int) and not isinstance(instance, bool)


@cache
def _inlined() -> Any:
    schema = json.loads(schema_text())
    return _inline(schema, schema.get("$defs", {}))


@cache
def _validator() -> Any:
    """Draft 2020-12 with integers that are whole numbers written as such: ids are never floats or booleans."""
    from jsonschema import Draft202012Validator, validators  # only for a document the fast validator rejects

    checker = Draft202012Validator.TYPE_CHECKER.redefine("integer", _is_integer)
    strict = validators.extend(Draft202012Validator, type_checker=checker)  # type: ignore[no-untyped-call]
    return strict(_inlined())


@cache
def _fast_validator() -> Callable[[Any], object]:
    """The schema compiled to Python (draft 7 has every keyword the inlined schema uses), its annotations left out
    (they would be copied into every error it can raise: twice the code to compile). Defaults are not written
    into the data, and there are no formats to check (jsonschema asserts none either)."""
    schema = _without_annotations(_inlined())
    return fastjsonschema.compile(schema, use_default=False, use_formats=False)


_ANNOTATIONS = ("$schema", "$id", "$comment", "title", "description", "default")


def _without_annotations(node: Any) -> Any:
    if isinstance(node, list):
        return [_without_annotations(item) for item in node]
    if isinstance(node, dict):
        return {key: _without_annotations(value) for key, value in node.items() if key not in _ANNOTATIONS}
    return node


def _valid(data: Any) -> bool:
    """True only where jsonschema would find nothing. fastjsonschema takes 1.0 for an integer (as the JSON Schema
    spec does) where `_is_integer` does not; no valid manifest holds a float anywhere (no key takes a number
    other than an id), so a document with one goes to jsonschema. Its errors, and a TypeError from a key that is
    no string (`1: x` where a pattern checks names), mean "ask jsonschema" too."""
    try:
        _fast_validator()(data)
    except (fastjsonschema.JsonSchemaException, TypeError):
        return False
    return not _holds_float(data)


def _holds_float(data: Any) -> bool:
    """Iterative: the tree is the YAML reader's, within its depth and size limits, but recursion costs calls."""
    stack = [data]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
        elif isinstance(node, float):
            return True
    return False


def _inline(node: Any, defs: dict[str, Any]) -> Any:
    """The schema with its local `$ref`s written out: resolving them per instance was half of validate's time
    on a 2,000-database fleet (issue 7). The schema has no recursive references, so this terminates."""
    if isinstance(node, list):
        return [_inline(item, defs) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: _inline(value, defs) for key, value in node.items() if key not in ("$ref", "$defs")}
    ref = node.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/$defs/"):
        out = {**_inline(defs[ref.removeprefix("#/$defs/")], defs), **out}
    return out


def dotted(path: JsonPath) -> str:
    """`databases[0].backup.interval` for ('databases', 0, 'backup', 'interval'); a long (unknown) key is cut."""
    out = ""
    for part in path:
        key = part if isinstance(part, int) or len(part) <= _LONG_KEY else part[:_LONG_KEY] + "..."
        out += f"[{key}]" if isinstance(key, int) else (f".{key}" if out else key)
    return out or "(top level)"


_LONG_KEY = 40
_LONG_MESSAGE = 300


def schema_problems(document: YamlDocument) -> Iterator[Problem]:
    """One problem per schema violation (one per unknown key)."""
    if _valid(document.data):
        return
    for error in _validator().iter_errors(document.data):
        yield from _explain(error, document)


def _explain(error: jsonschema.ValidationError, document: YamlDocument) -> Iterator[Problem]:
    path: JsonPath = tuple(error.absolute_path)
    where = dotted(path)
    value = error.instance
    schema = error.schema if isinstance(error.schema, dict) else {}
    if error.validator == "additionalProperties" and isinstance(value, dict):
        known = sorted(schema.get("properties", {}))
        for key in sorted(set(value) - set(known)):
            close = difflib.get_close_matches(str(key), known, n=1)
            fix = f"did you mean '{close[0]}'?" if close else f"known keys: {', '.join(known)}"
            yield Problem(
                document.position((*path, key), of_key=True),
                f"{dotted((*path, key))}: unknown key {shown(key)} — {fix}",
            )
        return
    if error.validator == "required":
        missing = str(error.message).split("'")[1] if "'" in str(error.message) else str(error.message)
        hint = f" — {_REQUIRED_HINTS[missing]}" if missing in _REQUIRED_HINTS else ""
        yield Problem(document.position(path), f"{where}: missing required key '{missing}'{hint}")
        return
    position = document.position(path)
    if error.validator == "const" and path == ("version",):
        supported = ", ".join(str(v) for v in SUPPORTED_VERSIONS)
        yield Problem(
            position, f"version: unsupported version {shown(value)} — this reconciler reads version {supported}"
        )
        return
    if error.validator == "enum":
        options = ", ".join(str(option) for option in schema.get("enum", []))
        yield Problem(position, f"{where}: {shown(value)} is not one of {options}")
        return
    if error.validator == "type":
        written = document.text(path)
        wanted = _TYPE_WORDS.get(str(error.validator_value), str(error.validator_value))
        got = _clip(written, _LONG_KEY) if written is not None else _kind(value)
        yield Problem(position, f"{where}: expected {wanted}, got {got}{_type_hint(error.validator_value, written)}")
        return
    if error.validator == "pattern":
        hint = _HINTS.get(str(path[-1]) if path else "", "")
        if path and path[-1] == "time_utc":
            hint = 'write a whole hour in UTC as "HH:00", e.g. "04:00"'
        elif not hint:
            hint = _URI_HINT
        yield Problem(position, f"{where}: {shown(value)} is not valid — {hint}{_line_break(value)}")
        return
    if error.validator == "oneOf" and path and path[-1] == "from":
        if isinstance(value, str):  # one URI that is not one: say why, as for any other URI
            yield Problem(position, f"{where}: {shown(value)} is not valid — {_uri_hint(value)}")
        else:
            yield Problem(position, f"{where}: expected a URI or a non-empty list of distinct URIs")
        return
    if error.validator == "maximum":
        yield Problem(
            position, f"{where}: {shown(value)} is larger than any Redis Cloud id (at most {error.validator_value:,})"
        )
        return
    yield Problem(position, f"{where}: {_clip(error.message)}")


_URI_HINT = "write a URI such as s3://bucket/path, without spaces or control characters"
# YAML 1.1's other booleans: YAML 1.2, and so the editor, reads them as text (yaml12.py).
_YAML11_BOOLEANS = {"yes": "true", "on": "true", "y": "true", "no": "false", "off": "false", "n": "false"}


def _type_hint(wanted: object, written: str | None) -> str:
    """What to write instead, where the type asked for has one way to write it."""
    if wanted == "boolean" and written is not None and written.lower() in _YAML11_BOOLEANS:
        fix = _YAML11_BOOLEANS[written.lower()]
        return f" — YAML 1.2, as your editor reads it, takes {written} as text: write {fix}"
    if wanted == "integer":  # only ids are integers
        return " — write the id in plain decimal digits, as Redis Cloud shows it"
    return ""


def _uri_hint(value: str) -> str:
    return _URI_HINT + _line_break(value)


def _line_break(value: Any) -> str:
    """`id: |` keeps the line break after the value (issue 20): say so, since the repr's `\\n` is easy to miss."""
    if isinstance(value, str) and value.endswith("\n"):
        return "; it ends in a line break (a `|` or `>` block keeps one): write the value on the key's line"
    return ""


def _clip(text: str, limit: int = _LONG_MESSAGE) -> str:
    """jsonschema's own messages quote the whole instance: a 1 MB value would come back in full."""
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text):,} characters)"


def _kind(value: Any) -> str:
    if value is None:
        return "nothing (null)"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return shown(value)
