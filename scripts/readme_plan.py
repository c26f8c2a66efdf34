"""Regenerate the plan pasted in README.md ("Reviewing a plan") from the sandbox, so it stays true.

python scripts/readme_plan.py          rewrite the README section
python scripts/readme_plan.py --check  exit 1 if the README is out of date (the tests run this)
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
START, END = "<!-- plan:start -->", "<!-- plan:end -->"


def rendered_plan() -> str:
    with tempfile.TemporaryDirectory() as work:
        shutil.copytree(ROOT / "examples", Path(work) / "examples", ignore=shutil.ignore_patterns("invalid", "ci"))
        run = [sys.executable, "-m", "reconciler"]
        subprocess.run([*run, "sandbox", "reset"], cwd=work, check=True, capture_output=True, timeout=120)
        result = subprocess.run(
            [*run, "--sandbox", "--no-color", "plan", "-f", "examples/", "--format", "markdown"],
            cwd=work,
            check=True,
            capture_output=True,
            text=True,
            timeout=120,
        )
    return result.stdout.strip()


def updated_readme(text: str, plan: str) -> str:
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    return f"{head}{START}\n{plan}\n{END}{tail}"


def main(argv: list[str]) -> int:
    current = README.read_text(encoding="utf-8")
    fresh = updated_readme(current, rendered_plan())
    if "--check" in argv:
        if fresh != current:
            print("README.md's example plan is out of date: run python scripts/readme_plan.py", file=sys.stderr)
            return 1
        return 0
    README.write_text(fresh, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
