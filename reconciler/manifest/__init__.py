"""Manifests: YAML text to the desired state, every problem with its position."""
