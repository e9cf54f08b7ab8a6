#!/usr/bin/env python3
"""Measure the gatekeeper's quality on real public mail, side by side with baselines.

Tasks (../shared/corpora; see gatekeeper/evaluation/splits.py for the splits):
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
        [--out bench-results/quality] [--readme README.md] [--benchmarks BENCHMARKS.md]
    .venv/bin/python scripts/bench_quality.py --from-results bench-results/quality/quality.json \\
        --readme README.md --benchmarks BENCHMARKS.md

Writes quality.json (each protocol's headline figures with their 95% intervals under
"intervals"), quality.md and learning_curve.png; with --readme, replaces the
README's evaluation tables (between its quality markers) with quality.md and copies the
learning curve beside it (docs/learning_curve.png); --benchmarks does the same for
BENCHMARKS.md's quality section (which `scripts/benchmarks_md.py` also writes);
--from-results publishes a saved run without measuring again. Embeddings are cached in
the cache dir ($GATEKEEPER_CACHE), so a second run measures the rest quickly.
"""

from __future__ import annotations

import argparse
import json
import logging
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from gatekeeper.core.embed import DEFAULT_MAX_LENGTH, make_embedder  # noqa: E402
from gatekeeper.evaluation.quality import PROTOCOLS, run_quality_bench  # noqa: E402
from gatekeeper.evaluation.quality_report import plot_learning_curves, render_markdown, \
    replace_tables  # noqa: E402
from gatekeeper.evaluation.splits import REPORTING, ROLES  # noqa: E402

def merged(runs: list[dict]) -> dict:
    """Several saved runs as one: each task from the run that measured it (peers always
    in the same run as the gatekeeper). They must share the model and the roles."""
    first = runs[0]
    for run in runs[1:]:
        if (run["model"], run["roles"]) != (first["model"], first["roles"]):
            raise SystemExit("the saved runs used other models or roles: measure them together")
    if len(runs) == 1:
        return first
    tasks = {name: task | {"run": run.get("run")} for run in runs
             for name, task in run["tasks"].items()}
    return {key: value for key, value in first.items() if key != "run"} | {"tasks": tasks}


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
    parser.add_argument("--benchmarks", type=Path, default=None,
                        help="rewrite this BENCHMARKS.md's quality tables from the reporting run")
    parser.add_argument("--from-results", type=Path, nargs="+", default=None,
                        metavar="QUALITY.json", help="measure nothing: render saved runs' "
                        "quality.json (several: their tasks side by side)")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(asctime)s %(name)s: %(message)s")
    roles = ROLES if args.role == "both" else (args.role,)
    if args.from_results:
        results = merged([json.loads(path.read_text()) for path in args.from_results])
        roles, markdown = tuple(results["roles"]), render_markdown(results)
        curve = args.out / "learning_curve.png"
        args.out.mkdir(parents=True, exist_ok=True)
        plot_learning_curves(results, curve)
    if (args.readme or args.benchmarks) and roles != (REPORTING,):
        parser.error("--readme and --benchmarks publish the reporting figures only: "
                     "use --role reporting")
    if not args.from_results:
        report = run_quality_bench(args.corpus_dir, args.out, cache_dir=args.cache_dir,
                                   limit=args.limit, tasks=args.tasks.split(","), roles=roles,
                                   protocols=args.protocols.split(","),
                                   embedder=make_embedder(max_length=args.max_length, threads=2))
        markdown, curve = report.markdown, args.out / "learning_curve.png"
        print(f"wrote {args.out}/quality.json, quality.md, learning_curve.png\n")
    print(markdown)
    if args.readme:
        args.readme.write_text(replace_tables(args.readme.read_text(), markdown))
        if curve.exists():
            shutil.copyfile(curve, args.readme.parent / "docs" / "learning_curve.png")
        print(f"rewrote the evaluation tables and learning curve of {args.readme}")
    if args.benchmarks:
        args.benchmarks.write_text(replace_tables(args.benchmarks.read_text(), markdown))
        print(f"rewrote the quality tables of {args.benchmarks}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
