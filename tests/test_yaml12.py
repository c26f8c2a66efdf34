"""Manifests mean what the editor shows (issue 18): plain scalars are typed by the YAML 1.2 core schema.

The editor's YAML language server reads YAML 1.2 with eemeli/yaml; PyYAML on its own reads YAML 1.1, where `yes` is
true, `16:00` is 960 and `017` is 15. One table of scalars is read by both of our loaders (libyaml's and PyYAML's
pure-Python one) and, where node is installed, by the editor's own parser at the version the language server pins.
"""

from __future__ import annotations

import json
import math
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from reconciler.errors import ManifestError
from reconciler.manifest.load import load_manifest
from reconciler.manifest.yaml12 import LOADERS
from reconciler.manifest.yaml_source import YamlProblem, read_yaml
from tests.support.examples import ROOT
from tests.support.manifests import write_manifest
from tests.support.node_packages import installed

# A plain scalar as written after `v: `, and what the YAML 1.2 core schema reads it as (YAML 1.2.2, 10.3.2),
# with YAML 1.1's reading where it differs.
SCALARS: list[tuple[str, object]] = [
    ("yes", "yes"),  # 1.1: true
    ("no", "no"),  # 1.1: false
    ("on", "on"),  # 1.1: true
    ("off", "off"),  # 1.1: false
    ("YES", "YES"),
    ("On", "On"),
    ("y", "y"),
    ("n", "n"),
    ("true", True),
    ("True", True),
    ("TRUE", True),
    ("false", False),
    ("tRUE", "tRUE"),
    ("~", None),
    ("null", None),
    ("Null", None),
    ("NULL", None),
    ("", None),
    ("nULL", "nULL"),
    ("0", 0),
    ("-19", -19),
    ("+1", 1),
    ("017", 17),  # 1.1: octal 15
    ("0o17", 15),  # 1.1: text
    ("0x1F", 31),
    ("0X1F", "0X1F"),
    ("+0x1F", "+0x1F"),  # 1.1: 31
    ("0b101", "0b101"),  # 1.1: 5
    ("1_000", "1_000"),  # 1.1: 1000
    ("1.0", 1.0),
    ("0.", 0.0),
    ("-0.0", -0.0),
    (".5", 0.5),
    ("+12e03", 12000.0),  # 1.1 (PyYAML): text
    ("1e3", 1000.0),  # 1.1: text
    ("-2E+05", -200000.0),
    (".inf", math.inf),
    ("-.Inf", -math.inf),
    ("+.INF", math.inf),
    (".nan", math.nan),
    (".NAN", math.nan),
    ("04:00", "04:00"),
    ("16:00", "16:00"),  # 1.1: 960
    ("1:20:30", "1:20:30"),  # 1.1: 4830
    ("2001-12-14", "2001-12-14"),  # 1.1: a date
    ("2001-12-14t21:59:43.10-05:00", "2001-12-14t21:59:43.10-05:00"),  # 1.1: a datetime
    ("=", "="),  # 1.1 (PyYAML): a "value" tag no safe loader can build
    ("<<", "<<"),  # a merge key only as a key
    ("1e", "1e"),
    (".", "."),
]


def _same(ours: object, theirs: object) -> bool:
    """Equal and of the same type (True is not 1, 1.0 is not 1), NaN equal to NaN."""
    if type(ours) is not type(theirs):
        return False
    if isinstance(ours, float) and isinstance(theirs, float) and math.isnan(theirs):
        return math.isnan(ours)
    return ours == theirs


@pytest.mark.parametrize("loader", LOADERS, ids=lambda loader: loader.__name__)
@pytest.mark.parametrize(("written", "expected"), SCALARS, ids=[written or "empty" for written, _ in SCALARS])
def test_plain_scalars_are_read_as_yaml_1_2(loader: type[yaml.SafeLoader], written: str, expected: object) -> None:
    value = yaml.load(f"v: {written}\n", Loader=loader)["v"]
    assert _same(value, expected), (written, value)


def test_both_loaders_are_tested_where_pyyaml_has_libyaml() -> None:
    assert len(LOADERS) == (2 if yaml.__with_libyaml__ else 1)


def test_merge_keys_still_merge(tmp_path: Path) -> None:
    """A YAML 1.1 extension, but the language server applies `<<` too when it checks the schema."""
    text = (
        "version: 1\ndatabases:\n"
        "  - {name: a, subscription: 1, database: 1, backup: &daily {path: 's3://b/a', interval: every-24-hours}}\n"
        "  - {name: b, subscription: 1, database: 2, backup: {<<: *daily, time_utc: 04:00}}\n"
    )
    _, merged = load_manifest([write_manifest(tmp_path, text)]).databases
    assert merged.backup is not None
    assert (merged.backup.path, merged.backup.interval, merged.backup.time_utc) == (
        "s3://b/a",
        "every-24-hours",
        "04:00",
    )


GOOD_DB = "version: 1\ndatabases:\n  - name: orders-prod\n    subscription: 1234567\n    database: 7654321\n"
DAILY = "    backup:\n      path: s3://b/p\n      interval: every-24-hours\n"


@pytest.mark.parametrize("written", ["04:00", "16:00", '"16:00"', "'23:00'"])
def test_a_time_of_day_needs_no_quotes(tmp_path: Path, written: str) -> None:
    (database,) = load_manifest([write_manifest(tmp_path, GOOD_DB + DAILY + f"      time_utc: {written}\n")]).databases
    assert database.backup is not None and database.backup.time_utc == written.strip("'\"")


# YAML 1.1 habits that YAML 1.2 reads otherwise, where the manifest can only mean one thing: the error says what.
HABITS = [
    pytest.param(
        "    protected: yes\n",
        "m.yaml:6:16: databases[0].protected: expected true or false, got yes — YAML 1.2, as your editor reads it, "
        "takes yes as text: write true",
        id="yes",
    ),
    pytest.param(
        DAILY.replace("    backup:\n", "    backup:\n      enabled: On\n"),
        "m.yaml:7:16: databases[0].backup.enabled: expected true or false, got On — YAML 1.2, as your editor reads "
        "it, takes On as text: write true",
        id="On",
    ),
    pytest.param(
        "    imports:\n      - {id: seed, from: 's3://b/f.rdb', confirm: orders-prod, backup_first: off}\n",
        "m.yaml:7:78: databases[0].imports[0].backup_first: expected true or false, got off — YAML 1.2, as your "
        "editor reads it, takes off as text: write false",
        id="off",
    ),
    pytest.param(
        DAILY + "      time_utc: 4:00\n",
        "m.yaml:9:17: databases[0].backup.time_utc: '4:00' is not valid — write a whole hour in UTC as \"HH:00\", "
        'e.g. "04:00"',
        id="time-without-leading-zero",
    ),
]


@pytest.mark.parametrize(("extra", "expected"), HABITS)
def test_yaml_1_1_habits_get_an_error_naming_the_value_and_the_fix(tmp_path: Path, extra: str, expected: str) -> None:
    path = write_manifest(tmp_path, GOOD_DB + extra, name="m.yaml")
    with pytest.raises(ManifestError) as caught:
        load_manifest([path])
    assert [str(problem) for problem in caught.value.problems] == [expected.replace("m.yaml", str(path))]


@pytest.mark.parametrize(
    ("written", "fix"),
    [
        ("017", "017 has a leading zero: 17 in YAML 1.2, octal to YAML 1.1 tools"),
        ("0o17", "0o17 is read by YAML as 15"),
        ("1e3", "expected a whole number, got 1e3"),
        ("1_000", "expected a whole number, got 1_000"),
    ],
)
def test_an_id_the_editor_accepts_but_a_reader_could_misread_is_refused(tmp_path: Path, written: str, fix: str) -> None:
    """The language server takes `database: 017` as 17 and `1e3` as 1000; here an id is only plain decimal."""
    path = write_manifest(tmp_path, GOOD_DB.replace("database: 7654321", f"database: {written}"), name="m.yaml")
    with pytest.raises(ManifestError) as caught:
        load_manifest([path])
    assert [str(p) for p in caught.value.problems] == [
        f"{path}:5:15: databases[0].database: {fix} — write the id in plain decimal digits, as Redis Cloud shows it"
    ]


DIRECTIVES = [
    pytest.param("%YAML 1.1\n---\n", 1, "1.1", id="1.1"),
    pytest.param("# yaml-language-server: $schema=../schemas/manifest.v1.json\n\n%YAML 1.1 # old\n---\n", 3, "1.1"),
    pytest.param("\ufeff%YAML 1.3\n---\n", 1, "1.3", id="1.3-after-a-byte-order-mark"),
]


@pytest.mark.parametrize(("head", "line", "version"), DIRECTIVES)
def test_a_yaml_version_directive_other_than_1_2_is_refused(tmp_path: Path, head: str, line: int, version: str) -> None:
    """Under `%YAML 1.1` the editor reads `yes` as true, and no reading here could agree with it on every value."""
    path = write_manifest(tmp_path, head + GOOD_DB, name="m.yaml")
    with pytest.raises(YamlProblem) as caught:
        read_yaml(path, "m.yaml")
    assert (caught.value.position.line, caught.value.position.column) == (line, 1)
    assert str(caught.value) == (
        f"%YAML {version}: manifests are read as YAML 1.2 (yes, no, on and off are text; true and false are "
        "booleans) — remove this line"
    )


def test_a_yaml_1_2_directive_is_read(tmp_path: Path) -> None:
    path = write_manifest(tmp_path, "%YAML 1.2\n---\n" + GOOD_DB, name="m.yaml")
    assert read_yaml(path, "m.yaml").data["version"] == 1


# Whole documents where this tool refuses what the editor reads: the editor's value, and the start of our message.
REFUSED = {"%YAML 1.1\n---\nv: yes\n": (True, "%YAML 1.1: manifests are read as YAML 1.2")}
EDITOR = ROOT / "tests" / "support" / "editor_yaml"


@pytest.fixture(scope="module")
def editor_parser(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The language server's parser, installed from the lock file (with its hash) into a cache kept across runs."""
    return installed(EDITOR, tmp_path_factory.mktemp("editor-yaml"))


def _editor_reads(parser: Path, documents: list[str]) -> list[tuple[str, object]]:
    result = subprocess.run(
        ["node", str(parser / "read.mjs")],
        input=json.dumps(documents),
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return [(kind, _FROM_JS[kind](text) if kind in _FROM_JS else text) for kind, text in json.loads(result.stdout)]


# read.mjs prints each value as [type, text]: JSON has no NaN, no infinity and no int apart from float.
_FROM_JS: dict[str, Callable[[str], object]] = {
    "int": int,
    "float": float,  # Python reads JavaScript's NaN, Infinity and -Infinity
    "bool": lambda text: text == "true",
    "null": lambda _: None,
    "str": str,
}


def _ours(tmp_path: Path, document: str) -> tuple[str, object]:
    path = tmp_path / "doc.yaml"
    path.write_text(document, encoding="utf-8")
    try:
        value = read_yaml(path, "doc.yaml").data["v"]
    except YamlProblem as exc:
        return "error", str(exc)
    return "value", value


def test_the_editor_and_this_tool_read_every_scalar_alike(editor_parser: Path, tmp_path: Path) -> None:
    documents = [f"v: {written}\n" for written, _ in SCALARS] + list(REFUSED)
    disagreements = []
    for document, (kind, theirs) in zip(documents, _editor_reads(editor_parser, documents), strict=True):
        assert kind != "error", (document, theirs)
        outcome, ours = _ours(tmp_path, document)
        if document in REFUSED:
            editor_reads, refusal = REFUSED[document]
            if not _same(theirs, editor_reads) or outcome != "error" or not str(ours).startswith(refusal):
                disagreements.append((document, ours, "should be refused, and the editor read", theirs))
        elif outcome == "error" or not _same(ours, theirs):
            disagreements.append((document, ours, "but the editor reads", theirs))
    assert disagreements == []


def _same_tree(ours: object, theirs: object) -> bool:
    """`_same` all the way down, dict keys and their order included."""
    if isinstance(theirs, dict):
        return (
            isinstance(ours, dict)
            and [type(k) for k in ours] == [type(k) for k in theirs]
            and list(ours) == list(theirs)
            and all(_same_tree(ours[key], theirs[key]) for key in theirs)
        )
    if isinstance(theirs, list):
        return isinstance(ours, list) and len(ours) == len(theirs) and all(map(_same_tree, ours, theirs))
    return _same(ours, theirs)


TREES = [
    pytest.param(GOOD_DB + DAILY + '      time_utc: "04:00"\n    protected: true\n', id="manifest"),
    pytest.param(
        "a: [1, -2, 0o17, 0x1F, 1.5, .inf, .nan, ~, null, '', true, False, 017, 1_000]\nb:\nc: ''\n", id="kinds"
    ),
    pytest.param("1: a\n0o1: b\n~: c\nnull: d\n1.0: e\ntrue: f\n'2': g\n", id="scalar-keys"),
    pytest.param("a: !!str 10\nb: !!int '10'\nc: !!float 1\nd: !!null ''\ne: !!bool true\n", id="explicit-tags"),
    pytest.param("base: &b {x: 1, y: [2]}\none: *b\ntwo: {<<: *b, y: 3}\n", id="anchors-and-merge"),
    pytest.param("a: {'<<': 1}\nb: {\"<<\": {c: 2}}\n", id="quoted-merge-key"),
    pytest.param("- - - []\n  - {}\n- deep: {deeper: {deepest: [a, b]}}\n", id="nesting"),
    pytest.param("a: |\n  text\nb: >\n  folded\n  line\n", id="blocks"),
    pytest.param("42\n", id="scalar-document"),
]


@pytest.mark.parametrize("loader", LOADERS, ids=lambda loader: loader.__name__)
@pytest.mark.parametrize("text", TREES)
def test_a_file_reads_as_pyyaml_builds_it(tmp_path: Path, loader: type[yaml.SafeLoader], text: str) -> None:
    """Issue 16: a plain tree is built in one walk of our own; any tree reads as PyYAML's constructor builds it."""
    path = tmp_path / "m.yaml"
    path.write_text(text)
    assert _same_tree(read_yaml(path, "m.yaml").data, yaml.load(text, Loader=loader))


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        pytest.param("a: 1\nb: 2\na: 3\n", "duplicate key 'a' — keep only one", id="duplicate"),
        pytest.param("a: 1\n1: 2\n'1': 3\n", "duplicate key '1' — keep only one", id="duplicate-as-written"),
        pytest.param("a: !!int ten\n", "'ten' is not a YAML 1.2 int", id="unreadable-tag"),
        pytest.param("a: !!binary aGk=\n", "could not determine a constructor", id="yaml-1.1-tag"),
        pytest.param("a: " + "[" * 70 + "]" * 70 + "\n", "nested deeper than 64 levels", id="deep"),
        pytest.param("a: " + "9" * 101 + "\n", "a number of 101 characters", id="long-number"),
        pytest.param("? [1, 2]\n: x\n", "found unhashable key", id="sequence-key"),
    ],
)
def test_a_tree_that_breaks_a_rule_is_refused_as_before(tmp_path: Path, text: str, problem: str) -> None:
    path = tmp_path / "m.yaml"
    path.write_text(text)
    with pytest.raises(YamlProblem) as caught:
        read_yaml(path, "m.yaml")
    assert problem in str(caught.value)
