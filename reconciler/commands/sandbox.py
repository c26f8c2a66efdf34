"""`sandbox serve` and `sandbox reset`: the built-in emulator as a real HTTP server, and a fresh world."""

from __future__ import annotations

from reconciler.commands.runtime import EXIT_OK, Runtime
from reconciler.connect import SANDBOX_SEED, SANDBOX_STATE


def run_sandbox(rt: Runtime) -> int:
    from reconciler import sandbox  # noqa: TID251 - this command is the emulator's front door

    seed = rt.args.seed
    if seed is not None and not seed.is_file():
        from reconciler.errors import ReconcilerError

        raise ReconcilerError(f"{seed}: no such seed file")
    if rt.args.sandbox_command == "serve":
        from reconciler.sandbox.server import PortUnavailable  # noqa: TID251

        try:
            sandbox.serve(rt.args.host, rt.args.port, seed, out=rt.out)
        except PortUnavailable as exc:
            from reconciler.errors import ReconcilerError

            raise ReconcilerError(str(exc)) from None
        return EXIT_OK
    chosen = seed or (SANDBOX_SEED if SANDBOX_SEED.is_file() else None)
    sandbox.reset(SANDBOX_STATE, chosen)
    print(f"Sandbox world in {SANDBOX_STATE}/ reset from {chosen or 'an empty account'}.", file=rt.out)
    return EXIT_OK
