"""The sandbox's data plane (issue 14): real Redis-compatible servers and local stand-ins for storage.

Everything here is optional (`pip install -e '.[sandbox]'`): the modules import their third-party
packages lazily, so the control-plane-only sandbox works without them. `plane.py` is the one entry point
the emulator's handlers call; `control.py` is what `reconciler sandbox up|status|down` calls.
"""
