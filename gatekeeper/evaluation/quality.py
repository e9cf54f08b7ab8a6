"""The quality benchmark: the standard tasks on the shared corpora, and how they are run.

Used by `scripts/bench_quality.py` and `gatekeeper eval`. Each task is cut into the
tuning and reporting splits of `splits`; on each split the batch and online protocols
and the baselines run side by side, and on the time split the prequential protocol.
Only the reporting figures are published; the tuning ones are where choices are made.
The report is JSON, Markdown (`quality_report`) and a PNG learning curve.
"""

from __future__ import annotations

import json
import logging
import os
import platform
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..core.embed import Embedder, OnnxEmbedder
from ..core.policy import PolicySettings
from . import baselines, corpus
from .evaluate import Prepared, Task, prepare, run_baselines, run_batch
from .prequential import run_online, run_prequential
from .quality_report import plot_learning_curves, render_markdown
from .splits import BY_SENDER, REPORTING, ROLES, Split, later_split, standard_splits

logger = logging.getLogger(__name__)

NEWS_GROUPS = ("sci.space", "rec.autos", "comp.graphics")
NEWS_INTERESTS = [
    "space exploration: NASA, rockets, satellites, the space shuttle, orbits, the moon and planets",
    "cars: engines, driving, car models, dealers, repairs and maintenance",
    "computer graphics: 3D rendering, image file formats, graphics software and algorithms",
]
SPAMASSASSIN_ARCHIVE = "spamassassin-2003-dev.tar.xz"
HARD_HAM_ARCHIVE = "spamassassin-hard-ham-dev.tar.xz"
NEWS_ARCHIVE = "20news-bydate-train.tar.xz"
# The folders of the SpamAssassin corpus, as the slices the report names.
SPAMASSASSIN_SLICES = {"easy_ham": "ordinary ham", "hard_ham_dev": "commercial-but-wanted"}
# Evaluation runs without probes so every figure is about the profile and the guard rails.
EVAL_SETTINGS = PolicySettings(probe_share=0.0)
PROTOCOLS = ("batch", "online", "prequential", "baselines")


@dataclass
class QualityReport:
    results: dict
    markdown: str


def spread(items: list, limit: int) -> list:
    """At most `limit` items, evenly spread over the list (order kept)."""
    if not limit or len(items) <= limit:
        return items
    step = len(items) / limit
    return [items[int(i * step)] for i in range(limit)]


def load_tasks(corpus_dir: Path, cache_dir: Path, names: Sequence[str], limit: int) -> list[Task]:
    """The standard tasks: SpamAssassin ham (ordinary and commercial) against spam, and a
    20 Newsgroups reader who wants three groups."""
    tasks = []
    if "spamassassin" in names:
        messages = corpus.load_spamassassin(corpus_dir / SPAMASSASSIN_ARCHIVE, cache_dir)
        messages += corpus.load_spamassassin(corpus_dir / HARD_HAM_ARCHIVE, cache_dir)
        messages.sort(key=lambda m: (m.order, m.key))
        tasks.append(Task("spamassassin", spread(messages, limit), time_cut=0.5,
                          slices=SPAMASSASSIN_SLICES, new_kinds=("hard_ham_dev",)))
    if "20news" in names:
        messages = corpus.load_20news(corpus_dir / NEWS_ARCHIVE, NEWS_GROUPS, cache_dir)
        tasks.append(Task("20news", spread(messages, limit), interests=NEWS_INTERESTS,
                          time_cut=0.7))
    return tasks


def run_split(prepared: Prepared, split: Split, embedder: Embedder,
              protocols: Sequence[str] = PROTOCOLS, profile_params: dict | None = None) -> dict:
    """The chosen protocols on one split (prequential only where the decided mail is later)."""
    started = time.perf_counter()
    result: dict = {"description": split.description, "learned": len(split.learn),
                    "decided": len(split.decide),
                    "decided_wanted_share": float(prepared.wanted[split.decide].mean())}
    ours = None  # the batch protocol's P(wanted), to compare the peers with on each message
    if "batch" in protocols:
        result["batch"], ours = run_batch(prepared, split, embedder, EVAL_SETTINGS,
                                          profile_params)
    if "online" in protocols:
        result["online"] = run_online(prepared, split, embedder, EVAL_SETTINGS, profile_params)
    if "prequential" in protocols and split.name not in BY_SENDER:
        result["prequential"] = run_prequential(prepared, split, embedder, EVAL_SETTINGS,
                                                profile_params)
    if "baselines" in protocols:
        result["baselines"] = run_baselines(prepared, split, baselines.available_baselines(),
                                            against=ours)
    result["seconds"] = time.perf_counter() - started
    logger.info("%s %s split: %.0f s", split.role, split.name, result["seconds"])
    return result


def run_task(prepared: Prepared, embedder: Embedder, roles: Sequence[str] = (REPORTING,),
             protocols: Sequence[str] = PROTOCOLS, splits: Sequence[Split] | None = None,
             profile_params: dict | None = None) -> dict:
    """Every split of the chosen roles, by role and name."""
    splits = splits if splits is not None else standard_splits(
        prepared.senders, prepared.labels, prepared.task.time_cut, prepared.task.new_kinds)
    by_role: dict[str, dict] = {}
    for split in splits:
        if split.role in roles:
            by_role.setdefault(split.role, {})[split.name] = run_split(
                prepared, split, embedder, protocols, profile_params)
    return {"messages": len(prepared.messages), "wanted_share": float(prepared.wanted.mean()),
            "slices": prepared.task.slices, "splits": by_role}


def task_from_path(path: Path, kind: str = "folders", *, labels: Path | None = None,
                   wanted: Sequence[str] = (), unwanted: Sequence[str] = (),
                   interests: Sequence[str] = (), disinterests: Sequence[str] = (),
                   time_cut: float = 0.5, cache_dir: Path | None = None) -> Task:
    """A task from a user's corpus: folders per label, an mbox and labels, or a known layout."""
    cache_dir = cache_dir or corpus.default_cache_dir()
    if kind == "spamassassin":
        messages = corpus.load_spamassassin(path, cache_dir)
    elif kind == "20news":
        messages = corpus.load_20news(path, wanted or NEWS_GROUPS, cache_dir)
    elif kind == "mbox":
        if labels is None:
            raise corpus.CorpusError("an mbox needs --labels FILE.csv (message_id,label)")
        messages = corpus.load_mbox_labels(path, labels)
    else:
        messages = corpus.load_folders(path, wanted or ("wanted", "ham"),
                                       unwanted or ("unwanted", "spam"))
    return Task(path.name, messages, list(interests), list(disinterests), time_cut)


def later_task(learned: Task, decided: Task) -> tuple[Task, Split]:
    """One task of both corpora and the split that learns the first and decides the second."""
    task = Task(f"{learned.name} -> {decided.name}", learned.messages + decided.messages,
                learned.interests, learned.disinterests, slices=learned.slices | decided.slices)
    return task, later_split(len(learned.messages), len(task.messages))


def run_later(learned: Task, decided: Task, out: Path | None, cache_dir: Path | None = None,
              with_baselines: bool = True, embedder: Embedder | None = None) -> QualityReport:
    """Learn all of one corpus and decide a later one: batch, prequential and baselines."""
    task, split = later_task(learned, decided)
    return run_tasks([task], out, cache_dir, with_baselines, embedder,
                     protocols=("batch", "prequential", "baselines"),
                     splits={task.name: [split]})


def run_tasks(tasks: Sequence[Task], out: Path | None, cache_dir: Path | None = None,
              with_baselines: bool = True, embedder: Embedder | None = None,
              roles: Sequence[str] = (REPORTING,), protocols: Sequence[str] = PROTOCOLS,
              splits: dict[str, Sequence[Split]] | None = None,
              profile_params: dict | None = None, limit: int = 0) -> QualityReport:
    """Run the protocols on each task's splits; write the report to `out`.

    `splits` maps a task's name to its splits when they are not the standard ones;
    `limit` is only recorded (the tasks were cut to it when loaded).
    """
    cache_dir = cache_dir or corpus.default_cache_dir()
    embedder = embedder or OnnxEmbedder(threads=2)
    protocols = [p for p in protocols if with_baselines or p != "baselines"]
    unknown = set(roles) - set(ROLES)
    if unknown:
        raise ValueError(f"unknown role(s) {', '.join(sorted(unknown))}; known: {', '.join(ROLES)}")
    results: dict[str, Any] = {"model": embedder.model_id, "roles": list(roles), "run": {
        "date": time.strftime("%Y-%m-%d", time.gmtime()),
        "machine": f"{platform.machine()} {platform.system()}", "cores": os.cpu_count(),
        "python": platform.python_version(), "limit": limit}, "tasks": {}}
    for task in tasks:
        logger.info("%s: %d messages", task.name, len(task.messages))
        prepared = prepare(task, embedder, cache_dir / "embeddings")
        results["tasks"][task.name] = run_task(prepared, embedder, roles, protocols,
                                               (splits or {}).get(task.name), profile_params)
    markdown = render_markdown(results)
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        (out / "quality.json").write_text(json.dumps(results, indent=2))
        (out / "quality.md").write_text(markdown)
        plot_learning_curves(results, out / "learning_curve.png")
    return QualityReport(results, markdown)


def run_quality_bench(corpus_dir: Path, out: Path | None, cache_dir: Path | None = None,
                      limit: int = 0, tasks: Sequence[str] = ("spamassassin", "20news"),
                      embedder: Embedder | None = None, roles: Sequence[str] = (REPORTING,),
                      protocols: Sequence[str] = PROTOCOLS, with_baselines: bool = True,
                      profile_params: dict | None = None) -> QualityReport:
    """The standard tasks on the shared corpora."""
    cache_dir = cache_dir or corpus.default_cache_dir()
    return run_tasks(load_tasks(corpus_dir, cache_dir, tasks, limit), out, cache_dir,
                     with_baselines=with_baselines, embedder=embedder, roles=roles,
                     protocols=protocols, profile_params=profile_params, limit=limit)
