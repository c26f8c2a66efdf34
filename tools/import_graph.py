"""Print the internal import graph of the `reconciler` package, grouped by part, with line counts.

A part is what sits directly under `reconciler/`: a module (`planner.py` is the part `planner`) or a folder
(`cloud/`, `sandbox/`). The arrows between parts are the architecture; this prints them so a redesign can be
measured before and after (`python tools/import_graph.py --root /path/to/other/checkout`).

Every import counts, wherever it stands: at the top, inside a function (marked `*`: loaded when called)
or under `if TYPE_CHECKING:` (marked `'`: for the type checker only). Standard library only, so it runs on
any checkout without installing it.
"""

from __future__ import annotations

import argparse
import ast
import sys
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path

PACKAGE = "reconciler"


class Kind(Enum):
    """How an import is reached; the strongest one names an edge (a top-level import beats a lazy one)."""

    TOP = ""
    LAZY = "*"
    TYPES = "'"


@dataclass(slots=True)
class Module:
    name: str  # dotted, without the package: "cloud.client", "planner", "sandbox" for its __init__
    path: Path
    lines: int
    imports: dict[str, Kind] = field(default_factory=dict)  # module name -> strongest kind

    @property
    def part(self) -> str:
        return self.name.split(".", 1)[0]


def find_modules(package_dir: Path) -> dict[str, Module]:
    modules: dict[str, Module] = {}
    for path in sorted(package_dir.rglob("*.py")):
        relative = path.relative_to(package_dir).with_suffix("")
        parts = relative.parts[:-1] if relative.name == "__init__" else relative.parts
        name = ".".join(parts) or "__init__"
        modules[name] = Module(name, path, len(path.read_text(encoding="utf-8").splitlines()))
    return modules


def _walk(node: ast.AST, kind: Kind) -> Iterator[tuple[ast.Import | ast.ImportFrom, Kind]]:
    """Every import under `node`, with how it is reached."""
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.Import | ast.ImportFrom):
            yield child, kind
        elif isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            yield from _walk(child, Kind.TYPES if kind is Kind.TYPES else Kind.LAZY)
        elif isinstance(child, ast.If) and _is_type_checking(child.test):
            for statement in child.body:
                yield from _walk(ast.Module(body=[statement], type_ignores=[]), Kind.TYPES)
            for statement in child.orelse:
                yield from _walk(ast.Module(body=[statement], type_ignores=[]), kind)
        else:
            yield from _walk(child, kind)


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _targets(statement: ast.Import | ast.ImportFrom, importer: Module, modules: dict[str, Module]) -> Iterator[str]:
    """The package's modules one import statement loads (a `from x import name` of a submodule loads that)."""
    if isinstance(statement, ast.Import):
        for alias in statement.names:
            yield from _resolve(alias.name, modules)
        return
    if statement.level:
        is_package = importer.path.name == "__init__.py"
        anchor = [PACKAGE, *importer.name.split(".")] if importer.name != "__init__" else [PACKAGE]
        keep = len(anchor) - statement.level + (1 if is_package else 0)
        base = ".".join(anchor[:keep] + ([statement.module] if statement.module else []))
    else:
        base = statement.module or ""
    for alias in statement.names:
        submodule = _resolve(f"{base}.{alias.name}", modules)
        yield from submodule if submodule else _resolve(base, modules)


def _resolve(dotted: str, modules: dict[str, Module]) -> list[str]:
    if dotted != PACKAGE and not dotted.startswith(PACKAGE + "."):
        return []
    name = dotted.removeprefix(PACKAGE).lstrip(".") or "__init__"
    return [name] if name in modules else []


def read_imports(modules: dict[str, Module]) -> None:
    strength = [Kind.TOP, Kind.LAZY, Kind.TYPES]
    for module in modules.values():
        tree = ast.parse(module.path.read_text(encoding="utf-8"), filename=str(module.path))
        for statement, kind in _walk(tree, Kind.TOP):
            for target in _targets(statement, module, modules):
                if target == module.name:
                    continue
                known = module.imports.get(target)
                if known is None or strength.index(kind) < strength.index(known):
                    module.imports[target] = kind


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def render(modules: dict[str, Module], root: Path) -> str:
    parts: dict[str, list[Module]] = defaultdict(list)
    for module in modules.values():
        parts[module.part].append(module)
    strength = [Kind.TOP, Kind.LAZY, Kind.TYPES]
    edges: dict[str, dict[str, Kind]] = {part: {} for part in parts}
    for module in modules.values():
        for target, kind in module.imports.items():
            other = modules[target].part
            if other == module.part:
                continue
            known = edges[module.part].get(other)
            if known is None or strength.index(kind) < strength.index(known):
                edges[module.part][other] = kind

    total = sum(module.lines for module in modules.values())
    out = [
        f"# import graph of {PACKAGE}/ in {root}",
        f"# {_plural(len(modules), 'module')} in {_plural(len(parts), 'part')}, {total} lines",
        "# an arrow's target marked * is imported only inside functions, ' only for the type checker",
        "",
        "## parts (lines, modules)",
    ]
    width = max(len(part) for part in parts)
    for part in sorted(parts):
        lines = sum(module.lines for module in parts[part])
        out.append(f"{part:<{width}}  {lines:>6}  {len(parts[part]):>3}")
    out += ["", "## arrows between parts"]
    for part in sorted(parts):
        targets = ", ".join(f"{target}{kind.value}" for target, kind in sorted(edges[part].items()))
        out.append(f"{part:<{width}} -> {targets or '(nothing)'}")
    out += ["", "## arrows into each part"]
    for part in sorted(parts):
        sources = sorted(source for source in parts if part in edges[source])
        out.append(f"{part:<{width}} <- {', '.join(sources) or '(nothing)'}")
    out += ["", "## modules (lines) -> the package's modules they import"]
    for part in sorted(parts):
        for module in sorted(parts[part], key=lambda m: m.name):
            targets = ", ".join(f"{target}{kind.value}" for target, kind in sorted(module.imports.items()))
            out.append(f"{module.name} ({module.lines}) -> {targets or '(nothing)'}")
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--root",
        type=Path,
        default=Path(__file__).resolve().parent.parent,
        help="a checkout holding reconciler/ (default: this one)",
    )
    args = parser.parse_args(argv)
    package_dir = args.root / PACKAGE
    if not package_dir.is_dir():
        print(f"import_graph: no {PACKAGE}/ in {args.root}", file=sys.stderr)
        return 1
    modules = find_modules(package_dir)
    read_imports(modules)
    sys.stdout.write(render(modules, args.root.resolve()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
