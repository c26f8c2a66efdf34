"""Directories a CLI run works in: a copy of `examples/` with a fast world, or a file-backed sandbox."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import yaml

from reconciler.sandbox import Emulator, reset
from reconciler.sandbox import local_emulator as _local_emulator
from tests.support.examples import EXAMPLES, ORDERS, SEED
from tests.support.world import FAST

STATE = ".reconciler-sandbox"

# The tag behaviours API-NOTES §11 leaves UNCONFIRMED (issue 12 §3), as sandbox options: the exactly-once tests
# run under each.
TAG_VARIANTS = {
    "duplicate-create-409": {},
    "duplicate-create-overwrites": {"tag_create_existing": "overwrite"},
    "keys-lowercased": {"tag_keys": "lowercase"},
    "30-tag-cap": {"max_tags_per_database": 30},
    "dotted-path-suffix-stripped": {"tag_path_suffix_stripping": True},
}


def copy_examples(target: Path, edit_world: Callable[[dict[str, Any]], None] | None = None) -> Path:
    """`examples/` copied into `target`, its sandbox world made fast (tasks take a few ms, not seconds) and the
    `--sandbox` world of `target` reset from it (a new world would start from the packaged example account)."""
    shutil.copytree(EXAMPLES, target / "examples")
    seed = target / "examples" / "sandbox-world.yaml"
    world = yaml.safe_load(seed.read_text(encoding="utf-8"))
    world["timings"] = FAST.to_dict()
    if edit_world is not None:
        edit_world(world)
    seed.write_text(yaml.safe_dump(world, sort_keys=False), encoding="utf-8")
    reset(target / STATE, seed)
    return target


def sandbox_dir(directory: Path, options: Mapping[str, Any] | None = None, **timings: float) -> Path:
    """`examples/` copied into `directory` and a world seeded with fast timings (all 0 unless given)."""
    shutil.copytree(EXAMPLES, directory / "examples", ignore=shutil.ignore_patterns("invalid"))
    document = yaml.safe_load(SEED.read_text(encoding="utf-8"))
    document["timings"] = {name: 0 for name in document["timings"]} | {"rate_limit_window": 60} | timings
    document["options"]["rate_limit"] = 1_000_000
    document["options"].update(options or {})
    seed = directory / "fast-world.yaml"
    seed.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    reset(directory / STATE, seed)
    return directory


def world(directory: Path) -> Emulator:
    """The file-backed world a `--sandbox` process in `directory` sees (read it, inject faults into it)."""
    return _local_emulator(directory / STATE)


def peek_tags(directory: Path, database: int = ORDERS) -> dict[str, str]:
    """The tags in the saved world, read without the lock (the file is replaced atomically): watching must
    not slow the process under test down."""
    try:
        data = json.loads((directory / STATE / "world.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    db = next(d for d in data["databases"] if d["id"] == database)
    return {key: tag["value"] for key, tag in db["tags"].items()}
