#!/usr/bin/env python3
"""Benchmark one refit of the profile, with one BLAS thread and with one per core.

A refit (`InterestProfile.fit`: the fit and its calibration folds) is what `train`, a
daemon catching up on many reactions, and every periodic consolidation wait for. Each
setting runs in a fresh process (OpenBLAS reads its thread count when it loads), on the
same examples: SpamAssassin mail with its real words and sender signals, embedded by the
hash embedder (the fit's cost does not depend on the embedding's values).

    .venv/bin/python scripts/bench_refit.py [--examples 3000] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def refit_seconds(examples: int, corpus_dir: Path) -> float:
    """Wall-clock seconds of one refit on `examples` corpus messages, in this process."""
    sys.path.insert(0, str(ROOT))
    from gatekeeper.core.brain import Brain
    from gatekeeper.core.message import parse
    from gatekeeper.evaluation.corpus import default_cache_dir, load_spamassassin
    from gatekeeper.testing import HashEmbedder

    corpus = load_spamassassin(corpus_dir / "spamassassin-2003-dev.tar.xz",
                               default_cache_dir())[:examples]
    brain = Brain(HashEmbedder())
    messages = [parse(item.raw) for item in corpus]
    evidence = brain.evidence(messages, brain.embed(messages), now=time.time())
    labels = [int(item.wanted) for item in corpus]
    started = time.perf_counter()
    brain.profile.fit(evidence, labels, times=[float(n) for n in range(len(labels))])
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=3000)
    parser.add_argument("--corpus-dir", type=Path, default=ROOT.parent / "shared" / "corpora")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(refit_seconds(args.examples, args.corpus_dir)))
        return 0
    figures = {"examples": args.examples, "cores": os.cpu_count()}
    for name, threads in (("one_blas_thread_s", "1"), ("blas_thread_per_core_s",
                                                       str(os.cpu_count()))):
        env = dict(os.environ, OPENBLAS_NUM_THREADS=threads)
        child = subprocess.run([sys.executable, __file__, "--child", "--examples",
                                str(args.examples), "--corpus-dir", str(args.corpus_dir)],
                               env=env, capture_output=True, text=True, check=True)
        figures[name] = json.loads(child.stdout.strip().splitlines()[-1])
        print(f"{name:>24}: {figures[name]:.2f}", flush=True)
    figures["ratio"] = figures["blas_thread_per_core_s"] / figures["one_blas_thread_s"]
    print(f"{'ratio':>24}: {figures['ratio']:.2f}")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
