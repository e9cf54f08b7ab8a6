#!/usr/bin/env python3
"""The whole decision pipeline, measured honestly: parse -> embed -> score -> decide.

No IMAP: the messages come from files, so what is measured is the gatekeeper's own work
per message. Over the SpamAssassin development corpus in ../shared/corpora (unpacked to
the cache dir), or over the demo's generated inbox when the corpus is absent.

Measured in one run, on the same messages:
- end-to-end messages/s in a fresh process that does what the daemon does: load the saved
  brain, then take the inbox in the pipeline's batches (the first message alone, as it
  arrives), parse, embed, score, decide and record each; with the model on 1 and 2 threads,
  and the share of time in each stage;
- in that process, the time from its start to its first decision, and its RSS after
  deciding --messages messages (default 10,000: the corpus is cycled with each pass's
  messages made unique, so the embedding cache does not flatter it);
- the backfill rate (`gatekeeper train`'s work: parse, embed, learn from history);
- bogofilter, SpamAssassin and rspamd from Debian when installed, each having learned
  the same history, classifying the same messages as they run natively (bogofilter: one
  process over all files; SpamAssassin: one process over an mbox; rspamd: its running
  daemon, one scanning worker per core, asked over HTTP 8 messages at a time, network
  checks off), so the ratios are read from this run.

    .venv/bin/python scripts/bench_pipeline.py [--messages 10000] [--json out.json]
        [--markdown BENCHMARKS-pipeline.md] [--max-length TOKENS] [--batch-size N]
        [--interests "TEXT" ...]
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

from gatekeeper.core.brain import Brain  # noqa: E402
from gatekeeper.core.embed import DEFAULT_MAX_LENGTH, Embedder, make_embedder  # noqa: E402
from gatekeeper.core.message import parse  # noqa: E402
from gatekeeper.evaluation import baselines, corpus  # noqa: E402
from gatekeeper.evaluation.rspamd import IN_FLIGHT  # noqa: E402
from gatekeeper.mail.pipeline import BATCH_SIZE  # noqa: E402

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


def trained_brain(embedder, history, interests: list[str]) -> Brain:
    brain = Brain(embedder)
    if interests:
        brain.set_interests(interests)
    messages = [parse(m.raw) for m in history]
    brain.learn_history(messages, brain.embed(messages),
                        ["read" if m.wanted else "deleted_unread" for m in history],
                        [m.order for m in history])
    return brain


def daemon_batches(items: list, batch_size: int) -> list[list]:
    """The first item alone (a message as it arrives), the rest as the pipeline fetches a
    backlog."""
    return [items[:1]] + [items[i:i + batch_size] for i in range(1, len(items), batch_size)]


class TimedEmbedder(Embedder):
    """The real embedder, with the time it spends and the texts it reads counted."""

    def __init__(self, inner: Embedder) -> None:
        self.inner, self.batch_size = inner, inner.batch_size
        self.seconds, self.texts = 0.0, 0

    @property
    def model_id(self) -> str:
        return self.inner.model_id

    def embed_batch(self, texts):
        started = time.perf_counter()
        vectors = self.inner.embed_batch(texts)
        self.seconds += time.perf_counter() - started
        self.texts += len(texts)
        return vectors


def decide_folder(brain_dir: Path, folder: Path, threads: int, max_length: int,
                  batch_size: int, started: float, now: float) -> dict:
    """The daemon's work in this process (run by `decided_in_fresh_process`): the first
    message alone, the rest in the pipeline's batches, each batch assessed as the
    pipeline does (the model only where the words and sender leave the verdict open)."""
    embedder = TimedEmbedder(make_embedder(threads=threads, max_length=max_length))
    brain = Brain.load(brain_dir, embedder)
    files = sorted(folder.iterdir())
    parsing = assessing = 0.0
    first_decision = None
    verdicts = []
    for batch in daemon_batches(files, batch_size):
        raws = [path.read_bytes() for path in batch]
        t0 = time.perf_counter()
        messages = [parse(raw) for raw in raws]
        t1 = time.perf_counter()
        for assessment in brain.assess(messages, now=now, settle_early=True):
            brain.observe(assessment, now)
            verdicts.append(verdict_kind(assessment))
        t2 = time.perf_counter()
        first_decision = first_decision or time.time()
        parsing += t1 - t0
        assessing += t2 - t1
    seconds = {"parse": parsing, "embed": embedder.seconds,
               "score and decide": assessing - embedder.seconds}
    total = sum(seconds.values())
    return {"messages": len(files), "seconds": total, "per_s": len(files) / total,
            "embedded": embedder.texts, "verdicts": verdicts,
            "stage_share": {k: v / total for k, v in seconds.items()},
            "first_decision_s": first_decision - started, "rss_mb": current_rss_mb(),
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def verdict_kind(assessment) -> str:
    verdict = assessment.verdict
    return f"{verdict.action}/{verdict.probe}/{verdict.queue}"


def verdicts_reading_every_message(brain: Brain, raws: list[bytes], batch_size: int,
                                   now: float) -> list[str]:
    """The verdicts when the model reads every message, in the same batches: what settling
    early must agree with."""
    with tempfile.TemporaryDirectory() as folder:  # a copy of the brain, as saved
        brain.save(Path(folder))
        brain = Brain.load(Path(folder), brain.embedder)
    verdicts = []
    for batch in daemon_batches(raws, batch_size):
        for assessment in brain.assess([parse(raw) for raw in batch], now=now):
            brain.observe(assessment, now)
            verdicts.append(verdict_kind(assessment))
    return verdicts


def decided_in_fresh_process(brain: Brain, raws: list[bytes], threads: int,
                             batch_size: int, now: float) -> dict:
    """Save the brain and the messages, and time a new interpreter deciding them as if
    they arrived at `now`."""
    folder = Path(tempfile.mkdtemp(prefix="gk-bench-"))
    try:
        brain.save(folder / "brain")
        (folder / "inbox").mkdir()
        for number, raw in enumerate(raws):
            (folder / "inbox" / f"{number:06d}.eml").write_bytes(raw)
        started = time.time()
        output = subprocess.run(
            [sys.executable, __file__, "--decide-folder", str(folder / "inbox"),
             "--brain", str(folder / "brain"), "--threads", str(threads),
             "--max-length", str(brain.embedder.max_length),
             "--batch-size", str(batch_size), "--started", repr(started), "--now", repr(now)],
            capture_output=True, text=True, check=True, cwd=ROOT).stdout
        return json.loads(output.splitlines()[-1])
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def timed_backfill(embedder, history, interests: list[str]) -> tuple[dict, Brain]:
    """Train's work on the history, timed; the trained brain then decides the rest."""
    started = time.perf_counter()
    brain = trained_brain(embedder, history, interests)
    seconds = time.perf_counter() - started
    return {"messages": len(history), "seconds": seconds, "per_s": len(history) / seconds}, brain


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
        f"the model reads up to {figures['max_length']} tokens of each; run {figures['date']}.",
        f"The reader's interest statements: {'; '.join(figures['interests'])}."
        if figures.get("interests") else "The reader has no interest statements.",
        "",
        "| what | messages | messages/s | model read | parse | embed | score and decide |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, run in ours.items():
        share = run["stage_share"]
        lines.append(f"| gatekeeper, {name} | {run['messages']:,} | {run['per_s']:.1f} | "
                     f"{run['embedded'] / run['messages']:.0%} | "
                     f"{share['parse']:.1%} | {share['embed']:.1%} | "
                     f"{share['score and decide']:.1%} |")
    for name, run in figures["baselines"].items():
        lines.append(f"| {name} (Debian, native) | {run['messages']:,} | {run['per_s']:.1f} "
                     "| | | | |")
    backfilled = figures["backfill"]
    lines += [
        "",
        f"- The model read only the messages whose words and sender left the verdict open "
        f"(`Brain.assess(settle_early=True)`, as the daemon's pipeline). Reading every message "
        f"instead gave the same verdict (action, probe, queue) for "
        f"{figures['same_verdicts']['agree']:,} of the first "
        f"{figures['same_verdicts']['messages']:,}.",
        f"- Backfill (train's work: parse, embed, learn): {backfilled['per_s']:.1f} messages/s "
        f"over {backfilled['messages']:,} messages.",
        f"- RSS of the deciding process after {figures['rss_after']['messages']:,} messages: "
        f"{figures['rss_after']['rss_mb']:.0f} MB (peak {figures['rss_after']['peak_rss_mb']:.0f}"
        " MB).",
        f"- From process start to the first decision: {figures['first_decision_s']:.2f} s.",
        f"- The other filters learned the same {backfilled['messages']:,} messages first, then "
        "classified as they run natively: bogofilter one process over the files, "
        "SpamAssassin one process over an mbox, rspamd its running daemon (one scanning "
        f"worker per core) asked over HTTP {IN_FLIGHT} messages at a time; network checks off.",
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
    parser.add_argument("--max-length", type=int, default=DEFAULT_MAX_LENGTH,
                        help="tokens the model reads per message (the config's max_length)")
    parser.add_argument("--batch-size", type=int, default=BATCH_SIZE,
                        help="messages decided together from a backlog (the pipeline's)")
    parser.add_argument("--interests", nargs="*", default=[], metavar="TEXT",
                        help="the reader's interest statements (default none); the model "
                             "then reads more messages, since the statements' share of the "
                             "score is only bounded before it runs")
    parser.add_argument("--json", type=Path)
    parser.add_argument("--markdown", type=Path)
    worker = parser.add_argument_group("the fresh process that decides (used by this script)")
    worker.add_argument("--decide-folder", type=Path, help=argparse.SUPPRESS)
    worker.add_argument("--brain", type=Path, help=argparse.SUPPRESS)
    worker.add_argument("--threads", type=int, help=argparse.SUPPRESS)
    worker.add_argument("--started", type=float, help=argparse.SUPPRESS)
    worker.add_argument("--now", type=float, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.decide_folder:
        print(json.dumps(decide_folder(args.brain, args.decide_folder, args.threads,
                                       args.max_length,
                                       args.batch_size, args.started, args.now)))
        return

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
        "max_length": args.max_length, "interests": args.interests,
        "pipeline": {},
    }
    print(f"{source}: {len(messages)} messages; history {len(history)}, deciding "
          f"{args.messages:,} (2 threads) and {args.one_thread_messages:,} (1 thread)", flush=True)
    figures["backfill"], brain = timed_backfill(
        make_embedder(threads=2, max_length=args.max_length), history, args.interests)
    print(f"backfill: {figures['backfill']['per_s']:.1f} messages/s", flush=True)
    # The mail arrives just after the history learned (the corpus is from 2002: the
    # sender memory would otherwise have decayed for twenty years).
    now = max(m.order for m in history) + 3600.0
    for threads, count in ((1, args.one_thread_messages), (2, args.messages)):
        run = decided_in_fresh_process(brain, raws[:count], threads, args.batch_size, now)
        settled_verdicts = run.pop("verdicts")  # the first messages are the same each run
        figures["pipeline"][f"{threads} thread{'s' if threads > 1 else ''}"] = run
        print(f"{threads} thread(s): {run['per_s']:.1f} messages/s over {count:,}; stages "
              + ", ".join(f"{k} {v:.0%}" for k, v in run["stage_share"].items())
              + f"; RSS after {run['rss_mb']:.0f} MB", flush=True)
    reading_all = verdicts_reading_every_message(brain, raws[:args.one_thread_messages],
                                                 args.batch_size, now)
    figures["same_verdicts"] = {"messages": len(reading_all), "agree": sum(
        a == b for a, b in zip(reading_all, settled_verdicts))}
    print(f"verdicts as when the model reads every message: "
          f"{figures['same_verdicts']['agree']:,} of {len(reading_all):,}", flush=True)
    figures["rss_after"] = {"messages": args.messages, "rss_mb": run["rss_mb"],
                            "peak_rss_mb": run["peak_rss_mb"]}
    figures["first_decision_s"] = run["first_decision_s"]
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
