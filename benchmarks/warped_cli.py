"""`python -m benchmarks.warped_cli SPEED ARGS…`: `reconciler ARGS…` as a user runs it, with its clocks SPEED
times fast (warp.py), so that a plan at the default 400 requests a minute waits seconds rather than minutes."""

from __future__ import annotations

import sys

from benchmarks import warp


def main(argv: list[str]) -> int:
    warp.install()
    warp.set_speed(float(argv[0]))
    from reconciler.cli import main as reconciler

    return reconciler(argv[1:])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
