"""Builders the tests share: worlds, clients, accounts, manifests, work directories and CLI runs.

Fixtures stay in the conftest files; everything a test imports by name lives here, one module per thing built.
"""
