"""gatekeeper: a local-first AI gatekeeper for your inbox."""

import os

# One BLAS thread, set before numpy loads OpenBLAS. The profile's refits are thousands of
# small BLAS calls (L-BFGS-B's vector updates, products over a few thousand rows), and
# OpenBLAS's threads spin-wait around each one: one refit of 3,000 examples took 48.0 s
# with a thread per core and 5.7 s with one, on two busy cores (scripts/bench_refit.py,
# side by side). A setting of the user's own is kept.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

__version__ = "0.1.0"
