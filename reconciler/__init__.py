"""rediscloud-reconciler: plan and apply Redis Cloud backup settings, on-demand backups and imports."""

__version__ = "0.1.0"
