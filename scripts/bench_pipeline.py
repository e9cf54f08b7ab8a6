#!/usr/bin/env python3
"""The whole decision pipeline, measured honestly: parse -> embed -> score -> decide.

No IMAP: the messages come from memory, so what is measured is the gatekeeper's own work
per message. Over the SpamAssassin development corpus in ../shared/corpora (unpacked to
the cache dir), or over the demo's generated inbox when the corpus is absent.

Measured in one run, on the same messages:
- end-to-end messages/s, one message at a time as the daemon decides, with the model on
  1 and 2 threads, and the share of time in each stage;
- the backfill rate (`gatekeeper train`'s work: parse, embed, learn from history);
- the RSS after deciding --messages messages (default 10,000: the corpus is cycled with
  each pass's messages made unique, so the embedding cache does not flatter it);
- the time from process start to the first decision (a fresh interpreter, the profile
  loaded from disk);
- bogofilter and SpamAssassin from Debian when installed, classifying the same messages
  as they run natively (bogofilter: one process over all files; SpamAssassin: one
  process over an mbox), so the ratios are read from this run.

    .venv/bin/python scripts/bench_pipeline.py [--messages 10000] [--json out.json]
        [--markdown BENCHMARKS-pipeline.md]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from gatekeeper import baselines, corpus  # noqa: E402
from gatekeeper.brain import Brain  # noqa: E402
from gatekeeper.embed import OnnxEmbedder  # noqa: E402
from gatekeeper.message import parse  # noqa: E402

FIRST_DECISION = """
import sys, time
from pathlib import Path
from gatekeeper.brain import Brain
from gatekeeper.embed import OnnxEmbedder
from gatekeeper.message import parse
brain = Brain.load(Path(sys.argv[1]), OnnxEmbedder())
verdict = brain.assess([parse(Path(sys.argv[2]).read_bytes())])[0].verdict
print(time.time(), verdict.action)
"""


def load_messages(corpus_dir: Path, cache_dir: Path) -> tuple[str, list[corpus.LabelledMessage]]:
    archive = corpus_dir / "spamassassin-2003-dev.tar.xz"
    if archive.exists():
        return "SpamAssassin 2003 dev corpus", corpus.load_spamassassin(archive, cache_dir)
    from gatekeeper.demo import generate_inbox  # the demo's realistic generated inbox

    print(f"{archive} is absent: using the demo's generated inbox instead", file=sys.stderr)
    inbox = generate_inbox(seed=0, messages=2000)
    return "generated demo inbox", [
        corpus.LabelledMessage(m.raw, m.wanted, "generated", str(i), float(i))
        for i, m in enumerate(inbox.received)]


def current_rss_mb() -> float:
    """This process's resident memory now (Linux), in MB."""
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def unique_copy(raw: bytes, round_number: int) -> bytes:
    """The message with a marker line added to its body, so its content hash is new."""
    if round_number == 0:
        return raw
    head, separator, body = raw.partition(b"\n\n")
    return head + separator + f"[copy {round_number}]\n".encode() + body


def trained_brain(embedder, history) -> Brain:
    brain = Brain(embedder)
    messages = [parse(m.raw) for m in history]
    brain.learn_history(messages, brain.embed(messages),
                        ["read" if m.wanted else "deleted_unread" for m in history],
                        [m.order for m in history])
    return brain


def decide_all(brain: Brain, raws: list[bytes]) -> dict:
    """One message at a time, as the daemon decides; seconds per stage."""
    seconds = {"parse": 0.0, "embed": 0.0, "score and decide": 0.0}
    now = time.time()
    for raw in raws:
        t0 = time.perf_counter()
        message = parse(raw)
        t1 = time.perf_counter()
        embedding = brain.embed([message])
        t2 = time.perf_counter()
        brain.assess([message], now=now, embeddings=embedding)
        t3 = time.perf_counter()
        seconds["parse"] += t1 - t0
        seconds["embed"] += t2 - t1
        seconds["score and decide"] += t3 - t2
    total = sum(seconds.values())
    return {"messages": len(raws), "seconds": total, "per_s": len(raws) / total,
            "stage_share": {k: v / total for k, v in seconds.items()}}


def timed_backfill(embedder, history) -> tuple[dict, Brain]:
    """Train's work on the history, timed; the trained brain then decides the rest."""
    started = time.perf_counter()
    brain = trained_brain(embedder, history)
    seconds = time.perf_counter() - started
    return {"messages": len(history), "seconds": seconds, "per_s": len(history) / seconds}, brain


def first_decision(brain: Brain, raw: bytes) -> float:
    folder = Path(tempfile.mkdtemp(prefix="gk-bench-"))
    try:
        brain.save(folder / "brain")
        (folder / "message.eml").write_bytes(raw)
        started = time.time()
        output = subprocess.run([sys.executable, "-c", FIRST_DECISION, str(folder / "brain"),
                                 str(folder / "message.eml")], capture_output=True, text=True,
                                check=True, cwd=ROOT).stdout.split()
        return float(output[0]) - started
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def run_baselines(history, test) -> dict:
    results = {}
    for baseline in baselines.available_baselines():
        if isinstance(baseline, baselines.NaiveBayesBaseline):
            continue  # a yardstick of the quality bench, not a filter people run
        baseline.fit([m.raw for m in history], [m.wanted for m in history])
        started = time.perf_counter()
        baseline.score(test)
        seconds = time.perf_counter() - started
        results[baseline.name] = {"messages": len(test), "seconds": seconds,
                                  "per_s": len(test) / seconds}
    return results


def markdown(figures: dict) -> str:
    ours = figures["pipeline"]
    lines = [
        "## Pipeline (scripts/bench_pipeline.py)", "",
        f"{figures['machine']}; {figures['source']}, {figures['corpus_messages']} messages; "
        f"run {figures['date']}.", "",
        "| what | messages | messages/s | parse | embed | score and decide |",
        "|---|---|---|---|---|---|",
    ]
    for name, run in ours.items():
        share = run["stage_share"]
        lines.append(f"| gatekeeper, {name} | {run['messages']:,} | {run['per_s']:.1f} | "
                     f"{share['parse']:.1%} | {share['embed']:.1%} | "
                     f"{share['score and decide']:.1%} |")
    for name, run in figures["baselines"].items():
        lines.append(f"| {name} (Debian, native) | {run['messages']:,} | {run['per_s']:.1f} "
                     "| | | |")
    backfilled = figures["backfill"]
    lines += [
        "",
        f"- Backfill (train's work: parse, embed, learn): {backfilled['per_s']:.1f} messages/s "
        f"over {backfilled['messages']:,} messages.",
        f"- RSS after deciding {figures['rss_after']['messages']:,} messages: "
        f"{figures['rss_after']['rss_mb']:.0f} MB.",
        f"- From process start to the first decision: {figures['first_decision_s']:.2f} s.",
    ]
    for name, run in figures["baselines"].items():
        for ours_name, ours_run in ours.items():
            lines.append(f"- gatekeeper ({ours_name}) / {name}: "
                         f"{ours_run['per_s'] / run['per_s']:.2f}x")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus-dir", type=Path, default=ROOT.parent / "shared" / "corpora")
    parser.add_argument("--cache-dir", type=Path, default=None)
    parser.add_argument("--messages", type=int, default=10_000,
                        help="decided with 2 threads, then the RSS is read")
    parser.add_argument("--one-thread-messages", type=int, default=1000)
    parser.add_argument("--history", type=int, default=1000,
                        help="messages learned first (also the backfill measurement)")
    parser.add_argument("--baseline-messages", type=int, default=1000)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--markdown", type=Path)
    args = parser.parse_args()

    source, messages = load_messages(args.corpus_dir, args.cache_dir or corpus.default_cache_dir())
    rng = np.random.default_rng(0)
    order = rng.permutation(len(messages))
    history = [messages[i] for i in order[:args.history]]
    test = [messages[i] for i in order[args.history:]] or history
    raws = [unique_copy(test[i % len(test)].raw, i // len(test)) for i in range(args.messages)]

    figures = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python "
                   f"{platform.python_version()}, {platform.system()}",
        "date": time.strftime("%Y-%m-%d"), "source": source, "corpus_messages": len(messages),
        "pipeline": {},
    }
    print(f"{source}: {len(messages)} messages; history {len(history)}, deciding "
          f"{args.messages:,} (2 threads) and {args.one_thread_messages:,} (1 thread)", flush=True)
    for threads, count in ((1, args.one_thread_messages), (2, args.messages)):
        embedder = OnnxEmbedder(threads=threads)
        if threads == 2:
            figures["backfill"], brain = timed_backfill(embedder, history)
            print(f"backfill: {figures['backfill']['per_s']:.1f} messages/s", flush=True)
        else:
            brain = trained_brain(embedder, history)
        run = decide_all(brain, raws[:count])
        figures["pipeline"][f"{threads} thread{'s' if threads > 1 else ''}"] = run
        print(f"{threads} thread(s): {run['per_s']:.1f} messages/s over {count:,}; stages "
              + ", ".join(f"{k} {v:.0%}" for k, v in run["stage_share"].items()), flush=True)
    figures["rss_after"] = {"messages": args.messages, "rss_mb": current_rss_mb(),
                            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}
    figures["first_decision_s"] = first_decision(brain, test[0].raw)
    print(f"RSS after {args.messages:,}: {figures['rss_after']['rss_mb']:.0f} MB; first "
          f"decision {figures['first_decision_s']:.2f} s after start", flush=True)
    figures["baselines"] = run_baselines(history, [m.raw for m in test[:args.baseline_messages]])
    for name, run in figures["baselines"].items():
        print(f"{name}: {run['per_s']:.1f} messages/s over {run['messages']:,}", flush=True)
    text = markdown(figures)
    print()
    print(text)
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))
    if args.markdown:
        args.markdown.write_text(text)


if __name__ == "__main__":
    main()
