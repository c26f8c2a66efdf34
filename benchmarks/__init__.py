"""Benchmarks: plan and apply against the API's physical limits (issues 7 and 16). Run by hand, never by CI:

python -m benchmarks            every figure (about 10 minutes here), writes benchmarks/RESULTS.md and results.json
python -m benchmarks --quick    smaller worlds and fewer durations, for a smoke run (about 4 minutes)
python -m benchmarks.diff_cost  the planner's cost per database alone
"""
