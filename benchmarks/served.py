"""The emulator over real HTTP in a process of its own, for figures that run the CLI as a user does.

`python -m benchmarks.served WORLD.json PORT` serves a seed document written as JSON: `sandbox serve` reads YAML,
which takes PyYAML about 45 s for 20,000 databases.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType
from typing import Any


def free_port() -> int:
    """A loopback port nobody listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def url_once_listening(port: int, process: subprocess.Popen[bytes], *, within: float) -> str:
    """The API's base URL once `process` accepts connections on `port`; an error if it ends or takes too long."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline and process.poll() is None:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return f"http://127.0.0.1:{port}/v1"
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"the emulator did not start serving on port {port}")


class Served:
    """`with Served(document, work) as url:` the account at `url` until the block ends."""

    def __init__(self, document: dict[str, Any], work: Path) -> None:
        self.path = work / "world.json"
        self.path.write_text(json.dumps(document), encoding="utf-8")
        self.process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> str:
        port = free_port()
        command = [sys.executable, "-m", "benchmarks.served", str(self.path), str(port)]
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, cwd=Path(__file__).resolve().parent.parent)
        return url_once_listening(port, self.process, within=120)

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=30)


def main(argv: list[str]) -> None:
    import uvicorn

    from reconciler.sandbox import Emulator, EmulatorApp
    from reconciler.sandbox.seed import world_from_document

    world = world_from_document(json.loads(Path(argv[0]).read_text(encoding="utf-8")))
    app = EmulatorApp(Emulator(world))
    uvicorn.run(app, host="127.0.0.1", port=int(argv[1]), log_level="warning", lifespan="off")


if __name__ == "__main__":
    main(sys.argv[1:])
