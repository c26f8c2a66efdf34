"""python -m benchmarks [--quick | --only check | --only footprint]: every figure (or figure 8, or figures 6 and 7,
alone), written to benchmarks/results.json and benchmarks/RESULTS.md."""

import sys

from benchmarks import warp

warp.install()  # before the product is imported: it binds time.monotonic and time.sleep as default arguments

from benchmarks.suite import main  # noqa: E402

sys.exit(main(sys.argv[1:]))
