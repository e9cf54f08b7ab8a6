#!/usr/bin/env python3
"""Measure the gatekeeper's quality on real public mail, side by side with baselines.

Tasks:
- spamassassin: the 2003 SpamAssassin corpus (ham wanted, spam unwanted), earlier half
  by date learned, later half decided; batch and online protocols.
- 20news: a reader who wants sci.space, rec.autos and comp.graphics and none of the other
  17 groups; cold start from three interest statements, then online learning.
Baselines in the same run on the same split: TF-IDF + naive Bayes, and bogofilter,
SpamAssassin and rspamd when installed (apt-get install bogofilter-sqlite spamassassin
rspamd redis-server).

    .venv/bin/python scripts/bench_quality.py [--corpus-dir ../shared/corpora]
        [--limit N] [--max-length TOKENS] [--out bench-results/quality]

Writes quality.json, quality.md (the README's evaluation table) and learning_curve.png.
Embeddings are cached in the cache dir, so a second run measures the rest quickly.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from gatekeeper.embed import DEFAULT_MAX_LENGTH, OnnxEmbedder  # noqa: E402
from gatekeeper.quality import run_quality_bench  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus-dir", type=Path, default=ROOT.parent / "shared" / "corpora")
    parser.add_argument("--cache-dir", type=Path, default=None,
                        help="where corpora are unpacked and embeddings cached")
    parser.add_argument("--limit", type=int, default=0,
                        help="use at most N messages per task (0: all), evenly spread")
    parser.add_argument("--out", type=Path, default=ROOT / "bench-results" / "quality")
    parser.add_argument("--tasks", default="spamassassin,20news")
    parser.add_argument("--max-length", type=int, default=DEFAULT_MAX_LENGTH,
                        help="tokens the model reads per message (the config's max_length)")
    args = parser.parse_args()
    report = run_quality_bench(args.corpus_dir, args.out, cache_dir=args.cache_dir,
                               limit=args.limit, tasks=args.tasks.split(","),
                               embedder=OnnxEmbedder(max_length=args.max_length, threads=2))
    print(report.markdown)
    print(f"\nwrote {args.out}/quality.json, quality.md, learning_curve.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
