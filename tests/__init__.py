"""The test suite. A package, so `tests.support` imports the same way from the repo root, a clean clone or CI."""
