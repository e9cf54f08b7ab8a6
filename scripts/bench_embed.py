#!/usr/bin/env python3
"""Benchmark the shipped int8 embedder: throughput, memory and start-up, side by side.

Prints a table of texts/s and ms/text at max length 128 and 256, 1 and 2 threads, for
`embed_batch` (one text per forward pass, what gatekeeper uses) and for padded forward
passes of 8 and 32 texts, on two sets of texts: "short" (the bundled example messages
and the model-test texts, the way the pipeline feeds them) and "full" (texts long enough
to fill the maximum length: the worst case, and common in real mail). Then, each in a
fresh process, the time from process start to the first vector, RSS after load, and
peak RSS.

    .venv/bin/python scripts/bench_embed.py [--rounds 3] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

STARTUP_PROBE = """
import time, resource
from gatekeeper.core.embed import OnnxEmbedder
embedder = OnnxEmbedder(max_length={max_length}, threads={threads})
embedder.embed("Dinner on Saturday?")
first = time.time()
after_load = int(open("/proc/self/status").read().split("VmRSS:")[1].split()[0]) // 1024
for size in (1, 8, 32):
    embedder.forward(["word " * 400] * size)
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
print(first, after_load, peak)
"""


def benchmark_texts() -> dict[str, list[str]]:
    from gatekeeper.campaign import bundled_examples
    from gatekeeper.core.message import parse

    mail = [parse(raw).text_for_embedding() for _, raw in bundled_examples()]
    tests = [t for t in json.loads((ROOT / "tests" / "data" / "reference_texts.json").read_text()) if t]
    short = mail + tests
    full = [(text + " ") * (1 + 2000 // max(len(text), 1)) for text in short][:16]
    return {"short": short, "full": full}


def mean_tokens(texts: list[str], max_length: int) -> float:
    from gatekeeper.core.embed import OnnxEmbedder

    tokenizer = OnnxEmbedder(max_length=max_length).tokenizer
    return sum(len(e.ids) for e in tokenizer.encode_batch(texts)) / len(texts)


def throughput(texts: list[str], max_length: int, threads: int, batch: int, rounds: int) -> float:
    from gatekeeper.core.embed import OnnxEmbedder

    embedder = OnnxEmbedder(max_length=max_length, threads=threads)
    embedder.embed("warm up")
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        if batch == 1:
            embedder.embed_batch(texts)
        else:
            for index in range(0, len(texts), batch):
                embedder.forward(texts[index : index + batch])
        best = min(best, time.perf_counter() - start)
    return len(texts) / best


def startup(max_length: int, threads: int) -> dict:
    """Time to first vector and memory, measured in a fresh interpreter."""
    start = time.time()
    output = subprocess.run(
        [sys.executable, "-c", STARTUP_PROBE.format(max_length=max_length, threads=threads)],
        capture_output=True, text=True, check=True, cwd=ROOT,
    ).stdout.split()
    first, after_load, peak = float(output[0]), int(output[1]), int(output[2])
    return {"first_vector_s": first - start, "rss_after_load_mb": after_load,
            "peak_rss_batch32_mb": peak}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="best of N rounds per cell")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args()
    sets = benchmark_texts()
    print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, best of "
          f"{args.rounds}; one text per forward pass at batch 1, padded batches otherwise")
    print(f"{'texts':>5} {'max len':>7} {'tokens':>6} {'threads':>7} {'batch':>5} "
          f"{'texts/s':>8} {'ms/text':>8}")
    rows = []
    for name, texts in sets.items():
        for max_length in (128, 256):
            tokens = mean_tokens(texts, max_length)
            for threads in (1, 2):
                for batch in (1, 8, 32):
                    rate = throughput(texts, max_length, threads, batch, args.rounds)
                    rows.append({"texts": name, "max_length": max_length, "mean_tokens": tokens,
                                 "threads": threads, "batch": batch,
                                 "texts_per_s": round(rate, 1)})
                    print(f"{name:>5} {max_length:>7} {tokens:>6.0f} {threads:>7} {batch:>5} "
                          f"{rate:>8.1f} {1000 / rate:>8.1f}")
    starts = {f"len{n}": startup(n, 1) for n in (128, 256)}
    for name, figures in starts.items():
        print(f"{name}: first vector {figures['first_vector_s']:.2f} s after process start, "
              f"RSS after load {figures['rss_after_load_mb']} MB, "
              f"peak RSS with batch 32 {figures['peak_rss_batch32_mb']} MB")
    if args.json:
        args.json.write_text(json.dumps({"throughput": rows, "startup": starts}, indent=2))


if __name__ == "__main__":
    main()
