"""`differing`: which named parts of two plan changes (or plan documents) differ, as the refusal of a saved plan
names them."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from types import MappingProxyType

import pytest

from reconciler.core.differences import differing


class Kind(Enum):
    BACKUP = "backup"
    IMPORT = "import"


@dataclass(frozen=True, slots=True)
class After:
    interval: str
    kind: Kind


@dataclass(frozen=True, slots=True)
class Change:
    after: After
    calls: tuple[object, ...]
    database: int
    replaces: object = None


BASE = Change(After("every-24-hours", Kind.BACKUP), (MappingProxyType({"body": {"uri": "s3://a"}}),), 7)


@pytest.mark.parametrize(
    ("saved", "fresh", "names"),
    [
        pytest.param(BASE, BASE, [], id="equal"),
        pytest.param(BASE, Change(After("every-12-hours", Kind.BACKUP), BASE.calls, 7), ["after.interval"], id="attr"),
        pytest.param(BASE, Change(After("every-24-hours", Kind.IMPORT), BASE.calls, 7), ["after.kind"], id="enum"),
        pytest.param(
            BASE, Change(BASE.after, (MappingProxyType({"body": {"uri": "s3://b"}}),), 7), ["calls"], id="in-a-list"
        ),
        pytest.param(BASE, Change(BASE.after, BASE.calls, 8, replaces="x"), ["database", "replaces"], id="two"),
        pytest.param(BASE, "another", ["change"], id="another-type"),
    ],
)
def test_changes_name_the_attribute_that_differs(saved: object, fresh: object, names: list[str]) -> None:
    assert differing(saved, fresh) == names


@pytest.mark.parametrize(
    ("saved", "fresh", "names"),
    [
        pytest.param(
            {"after": {"from": "a", "fingerprint": "f"}},
            {"after": {"from": "b"}},
            ["after.fingerprint", "after.from"],
            id="nested",
        ),
        pytest.param({"a": 1}, {"a": 1, "destructive": False}, ["destructive"], id="added"),
        pytest.param({"a": [1, 2]}, {"a": [1, 3]}, ["a"], id="list-whole"),
        pytest.param({"a": {"b": 1}}, {"a": 5}, ["a"], id="type-below"),
    ],
)
def test_documents_name_the_key_that_differs(saved: object, fresh: object, names: list[str]) -> None:
    assert differing(saved, fresh) == names
