"""The pure core: data in, data out; no network, files, clock, environment or printing (ARCHITECTURE.md)."""
