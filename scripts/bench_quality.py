#!/usr/bin/env python3
"""Measure the gatekeeper's quality on real public mail, side by side with baselines.

Tasks (../shared/corpora; see gatekeeper/splits.py for the splits):
- spamassassin: the 2003 SpamAssassin corpus, ham and the commercial-but-wanted
  hard_ham_dev wanted, spam unwanted;
- 20news: a reader who wants sci.space, rec.autos and comp.graphics and none of the other
  17 groups, starting from three interest statements.
Each is cut by sender into a tuning world (where settings are chosen: `--role tuning`)
and a reporting world (the published figures: `--role reporting`, the default). On each,
a sender split (senders never seen) and a time split (later mail) run the batch, online
and baseline protocols, and the time split the prequential stream. Baselines in the same
run on the same split: TF-IDF + naive Bayes, and bogofilter, SpamAssassin and rspamd when
installed (apt-get install bogofilter-sqlite spamassassin rspamd redis-server).

    .venv/bin/python scripts/bench_quality.py [--corpus-dir ../shared/corpora]
        [--role reporting|tuning|both] [--limit N] [--max-length TOKENS]
        [--out bench-results/quality] [--readme README.md]

Writes quality.json, quality.md and learning_curve.png; with --readme, replaces the
README's evaluation tables (between its quality markers) with quality.md. Embeddings are
cached in the cache dir ($GATEKEEPER_CACHE), so a second run measures the rest quickly.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from gatekeeper.embed import DEFAULT_MAX_LENGTH, make_embedder  # noqa: E402
from gatekeeper.quality import PROTOCOLS, run_quality_bench  # noqa: E402
from gatekeeper.quality_report import replace_tables  # noqa: E402
from gatekeeper.splits import REPORTING, ROLES  # noqa: E402

def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus-dir", type=Path, default=ROOT.parent / "shared" / "corpora")
    parser.add_argument("--cache-dir", type=Path, default=None,
                        help="where corpora are unpacked and embeddings cached")
    parser.add_argument("--limit", type=int, default=0,
                        help="use at most N messages per task (0: all), evenly spread")
    parser.add_argument("--out", type=Path, default=ROOT / "bench-results" / "quality")
    parser.add_argument("--tasks", default="spamassassin,20news")
    parser.add_argument("--role", choices=[*ROLES, "both"], default=REPORTING,
                        help="tuning: where settings are chosen; reporting: what is published")
    parser.add_argument("--protocols", default=",".join(PROTOCOLS),
                        help=f"comma-separated, of {', '.join(PROTOCOLS)}")
    parser.add_argument("--max-length", type=int, default=DEFAULT_MAX_LENGTH,
                        help="tokens the model reads per message (the config's max_length)")
    parser.add_argument("--readme", type=Path, default=None,
                        help="rewrite this README's evaluation tables from the reporting run")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(asctime)s %(name)s: %(message)s")
    roles = ROLES if args.role == "both" else (args.role,)
    if args.readme and roles != (REPORTING,):
        parser.error("--readme publishes the reporting figures only: use --role reporting")
    report = run_quality_bench(args.corpus_dir, args.out, cache_dir=args.cache_dir,
                               limit=args.limit, tasks=args.tasks.split(","), roles=roles,
                               protocols=args.protocols.split(","),
                               embedder=make_embedder(max_length=args.max_length, threads=2))
    print(report.markdown)
    print(f"\nwrote {args.out}/quality.json, quality.md, learning_curve.png")
    if args.readme:
        args.readme.write_text(replace_tables(args.readme.read_text(), report.markdown))
        print(f"rewrote the evaluation tables in {args.readme}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
