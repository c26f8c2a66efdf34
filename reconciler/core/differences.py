"""Where two values differ, by name (`after.interval`, `database.database`, `calls`): for the messages that say which
part of a saved plan no longer holds (core/staleness.py, output/plan_json.py). DeepDiff walks the values.

STYLE §1 has the planner as deepdiff's only caller; it is this module's instead. The planner compares a few flat
fields a database, where plain comparison names them in a microsecond and DeepDiff took 230-330 µs (issue 16);
here the values are nested changes and documents, compared only when a plan file is refused.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import is_dataclass
from typing import Any

_WHOLE = "change"  # the values differ as a whole (another type, or no named parts)


def differing(saved: object, fresh: object) -> list[str]:
    """The dotted names, sorted, of the dataclass attributes and mapping keys where `saved` and `fresh` differ; a
    list, an enum or any other value is named whole. Empty when they are equal."""
    from deepdiff import DeepDiff  # here: its import (pydantic with it) is 0.17 s, paid only by a refused plan

    names: set[str] = set()
    for levels in DeepDiff(saved, fresh, view="tree").values():
        for level in levels:
            names.add(_named_part(saved, fresh, level.path(output_format="list")))
    return sorted(names)


def described(saved: object, fresh: object) -> str:
    """`differing`'s names as a message shows them: at most ten, or "contents" when none is named."""
    return ", ".join(differing(saved, fresh)[:10]) or "contents"


def _named_part(saved: object, fresh: object, path: list[Any]) -> str:
    """The leading part of a DeepDiff path that names attributes and keys, down to the first value named whole."""
    kept: list[str] = []
    for part in path:
        if not isinstance(part, str) or not (_has(saved, part) or _has(fresh, part)):
            break
        kept.append(part)
        saved, fresh = _part(saved, part), _part(fresh, part)
    return ".".join(kept) or _WHOLE


def _has(value: object, part: str) -> bool:
    if isinstance(value, Mapping):
        return part in value
    return is_dataclass(value) and not isinstance(value, type) and hasattr(value, part)


def _part(value: object, part: str) -> object:
    if isinstance(value, Mapping):
        return value.get(part)
    return getattr(value, part, None) if is_dataclass(value) else None
