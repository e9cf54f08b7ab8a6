"""The quality benchmark: the standard tasks on the shared corpora, and their report.

Used by `scripts/bench_quality.py` and `gatekeeper eval --corpus-dir`. Each task runs the
batch and online protocols of `evaluate` and the baselines on the same split; the report
is JSON, a Markdown table, and a PNG learning curve (when matplotlib is installed).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from . import baselines, corpus
from .embed import Embedder, OnnxEmbedder
from .evaluate import Prepared, Task, prepare, run_baselines, run_batch, run_online
from .policy import PolicySettings

logger = logging.getLogger(__name__)

NEWS_GROUPS = ("sci.space", "rec.autos", "comp.graphics")
NEWS_INTERESTS = [
    "space exploration: NASA, rockets, satellites, the space shuttle, orbits, the moon and planets",
    "cars: engines, driving, car models, dealers, repairs and maintenance",
    "computer graphics: 3D rendering, image file formats, graphics software and algorithms",
]
# Evaluation runs without probes so every figure is about the profile and the guard rails.
EVAL_SETTINGS = PolicySettings(probe_share=0.0)


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
    tasks = []
    if "spamassassin" in names:
        messages = corpus.load_spamassassin(corpus_dir / "spamassassin-2003-dev.tar.xz", cache_dir)
        tasks.append(Task("spamassassin", spread(messages, limit), train_share=0.5))
    if "20news" in names:
        messages = corpus.load_20news(corpus_dir / "20news-bydate-train.tar.xz", NEWS_GROUPS,
                                      cache_dir)
        tasks.append(Task("20news", spread(messages, limit), interests=NEWS_INTERESTS,
                          train_share=0.7))
    return tasks


def run_task(prepared: Prepared, embedder, with_baselines: bool = True) -> dict:
    started = time.perf_counter()
    chosen = baselines.available_baselines() if with_baselines else []
    result = {
        "messages": len(prepared.messages),
        "wanted_share": float(prepared.wanted.mean()),
        "parse_per_s": len(prepared.messages) / max(prepared.seconds["parse"], 1e-9),
        "batch": run_batch(prepared, embedder, EVAL_SETTINGS),
        "online": run_online(prepared, embedder, EVAL_SETTINGS),
        "baselines": run_baselines(prepared, chosen),
    }
    result["seconds"] = time.perf_counter() - started
    return result


def task_from_path(path: Path, kind: str, *, labels: Path | None = None,
                   wanted: Sequence[str] = (), unwanted: Sequence[str] = (),
                   interests: Sequence[str] = (), disinterests: Sequence[str] = (),
                   train_share: float = 0.5, cache_dir: Path | None = None) -> Task:
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
    return Task(path.name, messages, list(interests), list(disinterests), train_share)


def run_tasks(tasks: Sequence[Task], out: Path | None, cache_dir: Path | None = None,
              with_baselines: bool = True, embedder: Embedder | None = None) -> QualityReport:
    """Run every protocol (and the baselines) on each task; write the report to `out`."""
    cache_dir = cache_dir or corpus.default_cache_dir()
    embedder = embedder or OnnxEmbedder(threads=2)
    results = {"model": embedder.model_id, "tasks": {}}
    for task in tasks:
        logger.info("%s: %d messages", task.name, len(task.messages))
        prepared = prepare(task, embedder, cache_dir / "embeddings")
        results["tasks"][task.name] = run_task(prepared, embedder, with_baselines)
    markdown = render_markdown(results)
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        (out / "quality.json").write_text(json.dumps(results, indent=2))
        (out / "quality.md").write_text(markdown)
        plot_learning_curves(results, out / "learning_curve.png")
    return QualityReport(results, markdown)


def run_quality_bench(corpus_dir: Path, out: Path, cache_dir: Path | None = None,
                      limit: int = 0, tasks: Sequence[str] = ("spamassassin", "20news"),
                      embedder: Embedder | None = None) -> QualityReport:
    """The standard tasks on the shared corpora."""
    cache_dir = cache_dir or corpus.default_cache_dir()
    return run_tasks(load_tasks(corpus_dir, cache_dir, tasks, limit), out, cache_dir,
                     embedder=embedder)


def _pct(value: float) -> str:
    return "-" if value != value else f"{100 * value:.1f}%"


def render_markdown(results: dict) -> str:
    lines = [
        "| task | filter | AUC | unwanted removed at 0.1% / 1% wanted lost "
        "| wanted lost | wanted held | unwanted removed | ECE |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, task in results["tasks"].items():
        for label, row in (("gatekeeper (batch)", task["batch"]),
                           ("gatekeeper (online)", task["online"])):
            lines.append(
                f"| {name} | {label} | {row['auc']:.4f} | {_pct(row['removed_at_0.1%_lost'])} / "
                f"{_pct(row['removed_at_1%_lost'])} | {_pct(row['wanted_lost_share'])} | "
                f"{_pct(row['wanted_held_share'])} | {_pct(row['unwanted_removed_share'])} | "
                f"{row['calibration']['ece']:.3f} |")
        for label, row in task["baselines"].items():
            lines.append(
                f"| {name} | {label} | {row['auc']:.4f} | {_pct(row['removed_at_0.1%_lost'])} / "
                f"{_pct(row['removed_at_1%_lost'])} | - | - | - | {row['calibration']['ece']:.3f} |")
    lines += ["", "Learning curve: on the held-out later part after N reader reactions, the AUC, "
              "then what the decisions did: unwanted mail removed, wanted mail held, wanted "
              "mail lost:", "",
              "| task | " + " | ".join(str(p["reactions"]) for p in _first_curve(results)) + " |",
              "|---|" + "---|" * len(_first_curve(results))]
    for name, task in results["tasks"].items():
        curve = task["online"]["learning_curve"]
        lines.append(f"| {name} | " + " | ".join(
            f"{p['auc']:.3f}: {_pct(p['unwanted_removed_share'])} removed, "
            f"{_pct(p['wanted_held_share'])} held, {_pct(p['wanted_lost_share'])} lost"
            for p in curve) + " |")
    return "\n".join(lines) + "\n"


def _first_curve(results: dict) -> list[dict]:
    for task in results["tasks"].values():
        return task["online"]["learning_curve"]
    return []


def plot_learning_curves(results: dict, path: Path) -> bool:
    """Draw AUC against reactions per task; False when matplotlib is not installed."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        logger.warning("matplotlib is not installed: no learning-curve PNG (pip install matplotlib)")
        return False
    figure, axis = plt.subplots(figsize=(6, 4))
    for name, task in results["tasks"].items():
        curve = task["online"]["learning_curve"]
        axis.plot([p["reactions"] for p in curve], [p["auc"] for p in curve], marker="o", label=name)
    axis.set(xlabel="reader reactions learned", ylabel="AUC on later mail",
             title="gatekeeper learning curve")
    axis.set_xscale("symlog", linthresh=10)
    axis.grid(alpha=0.3)
    axis.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)
    return True
