#!/usr/bin/env python3
"""How fast `gatekeeper simulate` is: one campaign to 100,000 recipients, and a series.

Targets (issue 6): one campaign against 100,000 recipients in under 10 s, and a series
of 10 sends against 10,000 recipients in under 30 s, on a 2-core machine. Each figure is
the wall time of the whole `simulate()` call with the real model (the persona brains
cached, as from the second call on), sampling the recipients, scoring and deciding for every recipient, the series,
the sentence-by-sentence explanation and the deliverability checks. Model loading is
reported on its own. Best of --repeat runs.

CPU per call (issue 18: <= 1.5 s of CPU for one campaign to 10,000 recipients): the
process CPU time (all threads) of one `simulate()` call on a newsletter of ordinary
length, side by side: the first call, which builds the persona brains; a call in the
same process (brains cached in memory); and a call as a new process makes it (brains
read from the on-disk cache).

    .venv/bin/python scripts/bench_simulate.py [--recipients 100000] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import tempfile
import time
from pathlib import Path

from gatekeeper.campaign.audience import default_audience
from gatekeeper.campaign import segments as persona_cache
from gatekeeper.campaign.simulate import Campaign, read_campaign, simulate
from gatekeeper.core.embed import OnnxEmbedder
from gatekeeper.core.message import parse
from gatekeeper.core.policy import PolicySettings
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


# A newsletter of ordinary length (24 sentences and a footer): sentence attribution
# re-reads the message once per sentence, so its length is part of the cost.
NEWSLETTER = build_message(
    sender="Trailhead Outfitters <news@trailhead.example>",
    subject="Spring on the trail: new boots, route guides and a members' weekend",
    body="\n\n".join([
        "Spring is here and the high trails are opening again.",
        "This month we tested six new hiking boots on wet limestone and dry sandstone.",
        "The lightest pair weighed under 400 grams and still kept our feet dry in streams.",
        "Our favourite for long days was the Ridgeline Pro, with a wide toe box.",
        "If you walk mostly on paths, a trail runner may suit you better than a boot.",
        "We explain how to choose, and how to make new boots comfortable before a big trip.",
        "Route of the month: the three-lakes circuit, fourteen kilometres with one steep climb.",
        "Start early: the car park fills by nine on spring weekends.",
        "Our guide marks water points, shelters and the places where the path is eroded.",
        "Members get a printable map and the GPX file for their watch.",
        "Join us for the members' weekend in the hills on the 18th and 19th of April.",
        "Guided walks for every level, a navigation workshop and a talk by a mountain rescue "
        "volunteer.",
        "Places are limited to sixty, and last year they went in two days.",
        "In the shop: waterproof jackets are 20% off until Sunday.",
        "Repairs are free for a year on anything bought from us.",
        "Bring old boots to any store and we will recycle them.",
        "Reader question: how do I stop blisters on long descents?",
        "Lace tighter over the instep, trim your toenails, and try thin liner socks.",
        "Tape hot spots early, before they turn into blisters.",
        "Thank you for walking with us.",
        "The Trailhead team",
        "You receive this because you joined Trailhead Outfitters' newsletter.",
        "Unsubscribe: https://trailhead.example/unsubscribe",
        "Trailhead Outfitters, 12 Mill Lane, Kendal"]),
    headers={"List-Id": "<news.trailhead.example>",
             "List-Unsubscribe": "<https://trailhead.example/unsubscribe>",
             "List-Unsubscribe-Post": "List-Unsubscribe=One-Click", "Precedence": "bulk"},
)


def cpu_timed(function) -> tuple[float, object]:
    started = time.process_time()
    result = function()
    return time.process_time() - started, result


def cpu_per_call(embedder, recipients: int) -> dict:
    """CPU seconds of one simulate() call: first (brains built), in-process cache, disk cache."""
    campaign = read_campaign("newsletter.eml", NEWSLETTER)
    audience = default_audience()
    with tempfile.TemporaryDirectory() as folder:
        def call():
            return simulate([campaign], audience, embedder, recipients=recipients,
                            cache_dir=Path(folder))

        persona_cache._BUILT.clear()
        first, _ = cpu_timed(call)
        in_process, _ = cpu_timed(call)
        persona_cache._BUILT.clear()  # as a new process finds it: brains on disk only
        from_disk, report = cpu_timed(call)
    return {"recipients": recipients, "first_s": round(first, 2),
            "cached_in_process_s": round(in_process, 2),
            "cached_on_disk_s": round(from_disk, 2), "target_s": 1.5,
            "sentences": len(report.variants[0].sentences)}


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
    cpu = cpu_per_call(embedder, 10_000)
    audience = default_audience()
    campaign = Campaign("devtools-weekly.eml", CAMPAIGN, parse(CAMPAIGN))
    settings = PolicySettings()
    persona_cache._BUILT.clear()
    segments_seconds, segments = timed(
        lambda: persona_cache.build_segments(audience, embedder, settings))

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
        "cpu_per_call": cpu,
        "peak_rss_mb": round(rss_mb, 1),
    }
    print(f"machine: {figures['machine']}; {len(audience.personas)} personas; best of "
          f"{args.repeat}")
    print(f"{'what':<52}{'seconds':>9}{'target':>8}")
    print(f"{'model load':<52}{load_seconds:>9.2f}")
    print(f"{'persona brains (embed statements, learn examples)':<52}{segments_seconds:>9.2f}")
    print(f"{f'1 send, {args.recipients:,} recipients (whole call, brains cached)':<52}"
          f"{one_seconds:>9.2f}{'< 10':>8}")
    print(f"{'  of which scoring and deciding, brains reused':<52}{scoring_seconds:>9.2f}"
          f"   ({args.recipients / scoring_seconds:,.0f} recipients/s)")
    print(f"{f'{args.sends} sends, {args.series_recipients:,} recipients':<52}"
          f"{series_seconds:>9.2f}{'< 30':>8}")
    print(f"peak RSS {rss_mb:.0f} MB")
    print(f"\nCPU per call, 1 campaign ({cpu['sentences']} sentences) to "
          f"{cpu['recipients']:,} recipients (target <= {cpu['target_s']} s):")
    print(f"{'first call (brains built)':<30}{'cached in process':>20}{'cached on disk':>18}")
    print(f"{cpu['first_s']:<30.2f}{cpu['cached_in_process_s']:>20.2f}"
          f"{cpu['cached_on_disk_s']:>18.2f}")
    if args.json:
        with open(args.json, "w") as out:
            json.dump(figures, out, indent=2)
    if args.markdown:
        with open(args.markdown, "w") as out:
            out.write(markdown(figures, args.repeat))


def markdown(figures: dict, repeat: int) -> str:
    one, series, cpu = figures["one_send"], figures["series"], figures["cpu_per_call"]
    scoring = figures["one_send_scoring_only"]
    return "\n".join([
        "## Campaign simulator (scripts/bench_simulate.py)", "",
        f"{figures['machine']}; built-in audience of {figures['personas']} personas; real "
        f"model; best of {repeat}; run {time.strftime('%Y-%m-%d')}.", "",
        "| what | seconds | target |", "|---|---|---|",
        f"| model load and first vector | {figures['model_load_s']:.2f} | |",
        f"| persona brains (embed statements, learn examples) | {figures['persona_brains_s']:.2f} | |",
        f"| 1 send to {one['recipients']:,} recipients, whole call (brains cached) | {one['seconds']:.2f} | < 10 |",
        f"| of which scoring and deciding ({scoring['recipients_per_s']:,} recipients/s) | "
        f"{scoring['seconds']:.2f} | |",
        f"| {series['sends']} sends to {series['recipients']:,} recipients | "
        f"{series['seconds']:.2f} | < 30 |", "",
        f"Peak RSS {figures['peak_rss_mb']:.0f} MB.", "",
        f"CPU per call (process CPU time, all threads), 1 campaign of "
        f"{cpu['sentences']} sentences to {cpu['recipients']:,} recipients, target <= "
        f"{cpu['target_s']} s:", "",
        "| first call (persona brains built) | cached in process | cached on disk (new process) |",
        "|---|---|---|",
        f"| {cpu['first_s']:.2f} s | {cpu['cached_in_process_s']:.2f} s | "
        f"{cpu['cached_on_disk_s']:.2f} s |", ""])


if __name__ == "__main__":
    main()
