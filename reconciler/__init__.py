"""rediscloud-reconciler: plan and apply Redis Cloud backup settings, on-demand backups and imports."""

# The one place the version is written: pyproject.toml reads it (setuptools' `attr:`, without importing the
# package), and `--version`, plan files and reports show it. PEP 440: unreleased work on the way to 0.2.0.
__version__ = "0.2.0.dev0"
