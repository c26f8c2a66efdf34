"""The only package that speaks HTTP. It knows the Redis Cloud API and nothing of manifests."""
