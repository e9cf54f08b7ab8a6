#!/usr/bin/env python3
"""Write BENCHMARKS.md from the figures the benchmark scripts saved: nothing typed by hand.

    .venv/bin/python scripts/bench_pipeline.py --json bench-results/pipeline.json \\
        --markdown bench-results/pipeline.md
    .venv/bin/python scripts/bench_daemon.py --json bench-results/daemon.json
    .venv/bin/python scripts/bench_train.py --json bench-results/train.json
    .venv/bin/python scripts/bench_refit.py --json bench-results/refit.json
    .venv/bin/python scripts/bench_simulate.py --json bench-results/simulate.json \\
        --markdown bench-results/simulate.md
    .venv/bin/python scripts/bench_quality.py --limit 4000   # -> bench-results/quality/
    .venv/bin/python scripts/benchmarks_md.py        # -> BENCHMARKS.md

Each target is checked against the measured figure here (quality's in
`gatekeeper.evaluation.quality_report`), so the verdict cannot drift from the numbers. A benchmark
whose results are missing is listed as not run; quality figures are published only from
the reporting world.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
RESULTS = ROOT / "bench-results"

from gatekeeper.evaluation.quality_report import BEGIN, END, render_markdown  # noqa: E402
from gatekeeper.evaluation.splits import REPORTING  # noqa: E402


def load(name: str) -> dict | None:
    path = RESULTS / name
    return json.loads(path.read_text()) if path.exists() else None


def targets(pipeline: dict | None, daemon: dict | None, simulate: dict | None,
            train: dict | None = None) -> list[tuple]:
    """(target, measured text, met?) for each target of the performance issues."""
    rows = []
    if pipeline:
        best = max(pipeline["pipeline"].values(), key=lambda run: run["per_s"])
        rows.append(("end to end >= 400 messages/s (2 cores, no IMAP)",
                     f"{best['per_s']:.1f} messages/s", best["per_s"] >= 400))
        rss = pipeline["rss_after"]
        rows.append((f"RSS <= 200 MB after {rss['messages']:,} decisions (pipeline)",
                     f"{rss['rss_mb']:.0f} MB", rss["rss_mb"] <= 200))
        rows.append(("first decision <= 1.5 s after process start",
                     f"{pipeline['first_decision_s']:.2f} s", pipeline["first_decision_s"] <= 1.5))
        backfill = pipeline["backfill"]
        projected = 10_000 / backfill["per_s"]
        rows.append(("backfill of 10,000 history messages < 2 min",
                     f"{backfill['per_s']:.1f} messages/s over {backfill['messages']:,} "
                     f"(10,000 would take {projected / 60:.1f} min at this rate)", projected < 120))
    if daemon:
        rows.append(("daemon RSS <= 200 MB after 10,000 messages",
                     f"{daemon['rss_after_all_mb']:.0f} MB after {daemon['decided']:,}",
                     daemon["rss_after_all_mb"] <= 200))
        rows.append(("~0% CPU while idling in IDLE", f"{daemon['idle_cpu_percent']:.2f}%",
                     daemon["idle_cpu_percent"] < 1.0))
    if train:
        rows.append((f"train: a usable profile within a minute on {train['messages']:,} messages",
                     f"{train['usable_s']:.0f} s (everything: {train['whole_s']:.0f} s)",
                     train["usable_s"] <= 60))
    if simulate:
        one, series = simulate["one_send"], simulate["series"]
        rows.append((f"simulate: 1 campaign to {one['recipients']:,} recipients < 10 s",
                     f"{one['seconds']:.2f} s", one["seconds"] < 10))
        rows.append((f"simulate: {series['sends']} sends to {series['recipients']:,} "
                     "recipients < 30 s", f"{series['seconds']:.2f} s", series["seconds"] < 30))
        if cpu := simulate.get("cpu_per_call"):
            rows.append((f"simulate: 1 campaign to {cpu['recipients']:,} recipients <= "
                         f"{cpu['target_s']} s CPU (persona brains cached)",
                         f"{cpu['cached_on_disk_s']:.2f} s CPU (first call "
                         f"{cpu['first_s']:.2f} s)", cpu["cached_on_disk_s"] <= cpu["target_s"]))
    return rows


def daemon_section(daemon: dict) -> str:
    return "\n".join([
        "## Daemon (scripts/bench_daemon.py)", "",
        "The real `gatekeeper run` against a private Dovecot on 127.0.0.1, one model thread: "
        "messages appended over IMAP, decisions read from its database.", "",
        "| figure | value |", "|---|---|",
        f"| latency APPEND to decision, p50 / p95 | {daemon['latency_p50_s']:.3f} s / "
        f"{daemon['latency_p95_s']:.3f} s |",
        f"| end to end over IMAP | {daemon['throughput_per_s']:.1f} messages/s |",
        f"| RSS at start / after {daemon['decided']:,} | {daemon['rss_start_mb']:.0f} MB / "
        f"{daemon['rss_after_all_mb']:.0f} MB |",
        f"| CPU while idle | {daemon['idle_cpu_percent']:.2f}% |", ""])


def train_section(train: dict) -> str:
    """`train.json`: bench_train's figures, with a `before` run's beside them when given
    (the same script with --checkout on the earlier code, on the same machine)."""
    before = train.get("before")
    header = "| figure | before | now |" if before else "| figure | now |"
    rows = [("usable profile saved", "usable_s", "{:.0f} s"),
            ("everything learned, report printed", "whole_s", "{:.0f} s"),
            ("messages learned per second, whole run", "messages_per_s", "{:.1f}")]
    lines = ["## Training (scripts/bench_train.py)", "",
             f"The real `gatekeeper train` on {train['messages']:,} messages in a private Dovecot "
             "on 127.0.0.1 (SpamAssassin mail, read in the inbox, unread in Trash, some sent), "
             f"every core. It learns the newest {train['usable_after_messages']:,} of "
             f"{train['history_messages']:,} messages first and saves the profile, then all "
             "older mail" + (f"; before: {before['label']}, usable only once everything was "
                            "learned" if before else "") + ".", "",
             header, "|---|---|---|" if before else "|---|---|"]
    for name, key, shown in rows:
        cells = [shown.format(before[key])] if before else []
        lines.append(f"| {name} | " + " | ".join(cells + [shown.format(train[key])]) + " |")
    return "\n".join(lines + [""])


def refit_section(refit: dict) -> str:
    return "\n".join([
        "## Refit (scripts/bench_refit.py)", "",
        f"One refit of the profile (fit and calibration) on {refit['examples']:,} SpamAssassin "
        f"messages, each setting in a fresh process on the same {refit['cores']}-core machine, "
        "side by side in one run.", "",
        "| BLAS threads | seconds |", "|---|---|",
        f"| 1 (what gatekeeper sets) | {refit['one_blas_thread_s']:.1f} |",
        f"| one per core (OpenBLAS's default) | {refit['blas_thread_per_core_s']:.1f} |", ""])


def quality_section(quality: dict) -> str:
    """The reporting run's tables between the markers `bench_quality.py --benchmarks`
    rewrites, so either script can refresh them."""
    return "\n".join([
        "## Quality (scripts/bench_quality.py)", "",
        "Only the reporting world, which no setting was chosen on (`gatekeeper/evaluation/splits.py`); "
        "the README's evaluation section is the same output.", "",
        BEGIN, render_markdown(quality).strip(), END, ""])


def main() -> int:
    pipeline, daemon, simulate = load("pipeline.json"), load("daemon.json"), load("simulate.json")
    train, refit = load("train.json"), load("refit.json")
    quality = load("quality/quality.json")
    if quality and quality.get("roles") != [REPORTING]:
        print("bench-results/quality holds tuning figures: left out (run bench_quality.py "
              "--role reporting)", file=sys.stderr)
        quality = None
    if not (pipeline or daemon or simulate or train or refit or quality):
        print(f"no results in {RESULTS}: run the benchmarks first (see this script's help)",
              file=sys.stderr)
        return 1
    lines = ["# Benchmarks", "",
             "Generated by `scripts/benchmarks_md.py` from the figures the benchmark scripts "
             "saved in `bench-results/`; each section says how it was measured and on what "
             "machine.", "", "## Targets", "", "| target | measured | met |", "|---|---|---|"]
    lines += [f"| {goal} | {measured} | {'yes' if met else '**no**'} |"
              for goal, measured, met in targets(pipeline, daemon, simulate, train)]
    lines.append("")
    for name, present in (("pipeline.md", pipeline), ("simulate.md", simulate)):
        if present and (RESULTS / name).exists():
            lines.append((RESULTS / name).read_text())
    if daemon:
        lines.append(daemon_section(daemon))
    if train:
        lines.append(train_section(train))
    if refit:
        lines.append(refit_section(refit))
    if quality:
        lines.append(quality_section(quality))
    missing = [n for n, r in (("bench_pipeline", pipeline), ("bench_daemon", daemon),
                              ("bench_simulate", simulate), ("bench_train", train),
                              ("bench_quality", quality)) if not r]
    if missing:
        lines.append("Not run for this file: " + ", ".join(missing) + ".\n")
    (ROOT / "BENCHMARKS.md").write_text("\n".join(lines))
    print(f"wrote {ROOT / 'BENCHMARKS.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
