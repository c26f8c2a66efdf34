"""The README's pre-commit snippet, with the real pre-commit, in a team's repository: the hook validates the whole
manifest set the staged files belong to, so what only the set shows (a name used twice) still fails the commit."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from tests.support.checkout import commit_working_tree, git
from tests.support.examples import EXAMPLES, ROOT

URL, REV = "<this repository's URL>", "<a commit id of this repository>"


def _readme_snippet() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    after = readme[readme.index("For pre-commit, add to `.pre-commit-config.yaml`") :]
    match = re.search(r"```yaml\n(.*?)```", after, re.S)
    assert match, "the README's pre-commit snippet is gone"
    return match[1]


def test_readme_snippet_validates_the_whole_manifest_set_of_what_is_staged(tmp_path: Path) -> None:
    tool = tmp_path / "rediscloud-reconciler"
    commit = commit_working_tree(tool)
    repo = tmp_path / "platform-repo"
    (repo / "manifests").mkdir(parents=True)
    for name in ("orders.yaml", "platform.yaml", "sandbox-world.yaml"):  # the world declares `kind:`: skipped
        shutil.copy(EXAMPLES / name, repo / "manifests" / name)
    snippet = _readme_snippet()
    assert URL in snippet and REV in snippet
    (repo / ".pre-commit-config.yaml").write_text(snippet.replace(URL, str(tool)).replace(REV, commit))
    git(repo, "init", "-q")
    git(repo, "add", ".")
    env = {**os.environ, "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home"), "PRE_COMMIT_COLOR": "never"}

    def pre_commit_run() -> subprocess.CompletedProcess[str]:
        """What `git commit` runs: the hooks, on the files staged."""
        return subprocess.run(
            [sys.executable, "-m", "pre_commit", "run"], cwd=repo, env=env, capture_output=True, text=True, timeout=300
        )

    good = pre_commit_run()
    assert good.returncode == 0, good.stdout + good.stderr
    assert re.search(r"reconciler validate\.+Passed", good.stdout)
    git(repo, "commit", "-q", "--no-verify", "-m", "manifests")

    # Only platform.yaml is staged; the name it now repeats is in orders.yaml, which is not.
    platform = repo / "manifests" / "platform.yaml"
    platform.write_text(platform.read_text().replace("name: sessions-prod", "name: orders-prod"))
    git(repo, "add", "manifests/platform.yaml")
    duplicate = pre_commit_run()
    assert duplicate.returncode == 1
    assert re.search(r"reconciler validate\.+Failed", duplicate.stdout)
    assert (
        "manifests/platform.yaml:6:11: name 'orders-prod' is already used at manifests/orders.yaml:7:11"
        in duplicate.stdout
    )

    git(repo, "reset", "-q", "--hard")
    shutil.copy(EXAMPLES / "invalid" / "broken.yaml", repo / "manifests" / "broken.yaml")
    git(repo, "add", ".")
    broken = pre_commit_run()
    assert broken.returncode == 1
    assert "manifests/broken.yaml:10:17: databases[0].backup.interval" in broken.stdout
    assert "hunter2" not in broken.stdout
