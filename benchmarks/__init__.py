"""Benchmarks: plan and apply at fleet scale against the API's physical limits (issue 7). Run by hand:

python -m benchmarks            all figures, writes benchmarks/RESULTS.md and benchmarks/results.json
python -m benchmarks --quick    smaller worlds, for a smoke run
"""
