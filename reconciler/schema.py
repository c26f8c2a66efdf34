"""The manifest JSON Schema, shipped inside the package, and its errors in words a person can act on."""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterator
from functools import cache
from importlib import resources
from typing import Any

import jsonschema
from jsonschema import Draft202012Validator

from reconciler.yaml_source import JsonPath, Problem, YamlDocument

SUPPORTED_VERSIONS = (1,)
_HINTS = {
    "name": "use lowercase letters, digits and '-', starting with a letter or digit, at most 40 characters",
    "id": "use lowercase letters, digits and '-', starting with a letter or digit, at most 40 characters",
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


@cache
def _validator() -> Draft202012Validator:
    schema = json.loads(schema_text())
    return Draft202012Validator(_inline(schema, schema.get("$defs", {})))


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
    """`databases[0].backup.interval` for ('databases', 0, 'backup', 'interval')."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out or "(top level)"


def schema_problems(document: YamlDocument) -> Iterator[Problem]:
    """One problem per schema violation (one per unknown key)."""
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
            yield (
                document.position((*path, key), of_key=True),
                f"{dotted((*path, key))}: unknown key '{key}' — {fix}",
            )
        return
    if error.validator == "required":
        missing = str(error.message).split("'")[1] if "'" in str(error.message) else str(error.message)
        hint = f" — {_REQUIRED_HINTS[missing]}" if missing in _REQUIRED_HINTS else ""
        yield document.position(path), f"{where}: missing required key '{missing}'{hint}"
        return
    position = document.position(path)
    if error.validator == "const" and path == ("version",):
        supported = ", ".join(str(v) for v in SUPPORTED_VERSIONS)
        yield position, f"version: unsupported version {value!r} — this reconciler reads version {supported}"
        return
    if error.validator == "enum":
        options = ", ".join(str(option) for option in schema.get("enum", []))
        yield position, f"{where}: {value!r} is not one of {options}"
        return
    if error.validator == "type":
        written = document.text(path)
        wanted = _TYPE_WORDS.get(str(error.validator_value), str(error.validator_value))
        if path and path[-1] == "time_utc" and written is not None:
            yield position, f'{where}: {written} is read by YAML as a number — quote it: "{written}"'
        else:
            yield (
                position,
                f"{where}: expected {wanted}, got {written if written is not None else _kind(value)}",
            )
        return
    if error.validator == "pattern":
        hint = _HINTS.get(str(path[-1]) if path else "", "")
        if path and path[-1] == "time_utc":
            hint = 'write a whole hour in UTC as "HH:00", e.g. "04:00"'
        elif not hint:
            hint = "write a URI such as s3://bucket/path"
        yield position, f"{where}: {value!r} is not valid — {hint}"
        return
    if error.validator == "oneOf" and path and path[-1] == "from":
        yield position, f"{where}: expected a URI or a non-empty list of distinct URIs"
        return
    yield position, f"{where}: {error.message}"


def _kind(value: Any) -> str:
    if value is None:
        return "nothing (null)"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return repr(value)
