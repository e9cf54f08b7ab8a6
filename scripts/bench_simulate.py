#!/usr/bin/env python3
"""How fast `gatekeeper simulate` is: one campaign to 100,000 recipients, and a series.

Targets (issue 6): one campaign against 100,000 recipients in under 10 s, and a series
of 10 sends against 10,000 recipients in under 30 s, on a 2-core machine. Each figure is
the wall time of the whole `simulate()` call with the real model: building the persona
brains, sampling the recipients, scoring and deciding for every recipient, the series,
the sentence-by-sentence explanation and the deliverability checks. Model loading is
reported on its own. Best of --repeat runs.

    .venv/bin/python scripts/bench_simulate.py [--recipients 100000] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import time

from gatekeeper.audience import default_audience
from gatekeeper.embed import OnnxEmbedder
from gatekeeper.message import parse
from gatekeeper.policy import PolicySettings
from gatekeeper.simulate import Campaign, Segment, simulate
from gatekeeper.testing import build_message

CAMPAIGN = build_message(
    sender="DevTools Weekly <news@devtools.example>",
    subject="This week: faster Python packaging, a new type checker and CI tips",
    body=("The new release of our package manager resolves dependencies twice as fast. "
          "We tested three type checkers on a large codebase and compare their speed. "
          "Five tips to make your CI pipeline cache builds and cut minutes off every run. "
          "Plus: a free webinar on debugging memory leaks in long-running services.\n\n"
          "Unsubscribe: https://devtools.example/unsubscribe"),
    headers={"List-Id": "<weekly.devtools.example>",
             "List-Unsubscribe": "<https://devtools.example/unsubscribe>",
             "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
             "Precedence": "bulk"},
)


def timed(function) -> tuple[float, object]:
    started = time.perf_counter()
    result = function()
    return time.perf_counter() - started, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipients", type=int, default=100_000)
    parser.add_argument("--series-recipients", type=int, default=10_000)
    parser.add_argument("--sends", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", help="Also write the figures here.")
    parser.add_argument("--markdown", help="Also write a BENCHMARKS.md section here.")
    args = parser.parse_args()

    def load() -> OnnxEmbedder:
        loaded = OnnxEmbedder()
        loaded.embed_many(["warm up"])  # the session is created on first use
        return loaded

    load_seconds, embedder = timed(load)
    audience = default_audience()
    campaign = Campaign("devtools-weekly.eml", CAMPAIGN, parse(CAMPAIGN))
    settings = PolicySettings()
    segments_seconds, segments = timed(
        lambda: [Segment.build(p, embedder, settings) for p in audience.personas])

    def best(**kwargs) -> tuple[float, object]:
        runs = [timed(lambda: simulate([campaign], audience, embedder, settings=settings,
                                       **kwargs)) for _ in range(args.repeat)]
        return min(runs, key=lambda run: run[0])

    one_seconds, one = best(recipients=args.recipients)
    series_seconds, series = best(recipients=args.series_recipients, sends=args.sends)
    scoring_seconds, _ = best(recipients=args.recipients, segments=segments, explain=False)
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    figures = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "personas": len(audience.personas),
        "model_load_s": round(load_seconds, 2),
        "persona_brains_s": round(segments_seconds, 2),
        "one_send": {"recipients": args.recipients, "seconds": round(one_seconds, 2),
                     "target_s": 10, "pass_rate": round(one.pass_rate(), 4)},
        "one_send_scoring_only": {"recipients": args.recipients,
                                  "seconds": round(scoring_seconds, 2),
                                  "recipients_per_s": round(args.recipients / scoring_seconds)},
        "series": {"recipients": args.series_recipients, "sends": args.sends,
                   "seconds": round(series_seconds, 2), "target_s": 30,
                   "pass_rate": round(series.pass_rate(), 4)},
        "peak_rss_mb": round(rss_mb, 1),
    }
    print(f"machine: {figures['machine']}; {len(audience.personas)} personas; best of "
          f"{args.repeat}")
    print(f"{'what':<52}{'seconds':>9}{'target':>8}")
    print(f"{'model load':<52}{load_seconds:>9.2f}")
    print(f"{'persona brains (embed statements, learn examples)':<52}{segments_seconds:>9.2f}")
    print(f"{f'1 send, {args.recipients:,} recipients (whole simulate call)':<52}"
          f"{one_seconds:>9.2f}{'< 10':>8}")
    print(f"{'  of which scoring and deciding, brains reused':<52}{scoring_seconds:>9.2f}"
          f"   ({args.recipients / scoring_seconds:,.0f} recipients/s)")
    print(f"{f'{args.sends} sends, {args.series_recipients:,} recipients':<52}"
          f"{series_seconds:>9.2f}{'< 30':>8}")
    print(f"peak RSS {rss_mb:.0f} MB")
    if args.json:
        with open(args.json, "w") as out:
            json.dump(figures, out, indent=2)
    if args.markdown:
        with open(args.markdown, "w") as out:
            out.write(markdown(figures, args.repeat))


def markdown(figures: dict, repeat: int) -> str:
    one, series = figures["one_send"], figures["series"]
    scoring = figures["one_send_scoring_only"]
    return "\n".join([
        "## Campaign simulator (scripts/bench_simulate.py)", "",
        f"{figures['machine']}; built-in audience of {figures['personas']} personas; real "
        f"model; best of {repeat}; run {time.strftime('%Y-%m-%d')}.", "",
        "| what | seconds | target |", "|---|---|---|",
        f"| model load and first vector | {figures['model_load_s']:.2f} | |",
        f"| persona brains (embed statements, learn examples) | {figures['persona_brains_s']:.2f} | |",
        f"| 1 send to {one['recipients']:,} recipients, whole call | {one['seconds']:.2f} | < 10 |",
        f"| of which scoring and deciding ({scoring['recipients_per_s']:,} recipients/s) | "
        f"{scoring['seconds']:.2f} | |",
        f"| {series['sends']} sends to {series['recipients']:,} recipients | "
        f"{series['seconds']:.2f} | < 30 |", "",
        f"Peak RSS {figures['peak_rss_mb']:.0f} MB.", ""])


if __name__ == "__main__":
    main()
