"""gatekeeper: a local-first AI gatekeeper for your inbox."""

import os

# One BLAS thread, set before numpy loads OpenBLAS. The profile's refits are thousands of
# small BLAS calls (L-BFGS-B's vector updates, products over a few thousand rows), and
# OpenBLAS's threads spin-wait around each one: on two cores shared with the model, a
# refit of 1,470 examples took 182 s with them and 22 s without (scripts/bench_refit.py
# measures it side by side). A setting of the user's own is kept.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

__version__ = "0.1.0"
