"""Replay labelled mail through the real parse -> embed -> score -> decide code and measure.

Three protocols:
- batch: learn from the earlier part of a corpus (as if the reader had kept or thrown
  away each message), then score and decide the later part;
- online: messages arrive in order, the policy decides, a simulated reader reacts as a
  person would (reads wanted mail it sees, deletes unwanted mail unread, looks at the held
  folder now and then and rescues what it wants, never sees what was deleted), and the
  profile learns only from those reactions;
- cold start: only interest statements, then the AUC on held-out mail after 0, 10, 50,
  200 reactions of the online reader (the learning curve).
Baselines (see `baselines`) run side by side on the same split.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .brain import Assessment, Brain
from .corpus import LabelledMessage
from .embed import Embedder
from .message import Message, parse
from .policy import DELETE, HOLD, PASS, PolicySettings
from .profile import InterestProfile

logger = logging.getLogger(__name__)

DAY = 86400.0
CURVE_POINTS = (0, 10, 50, 200)


@dataclass
class Task:
    """A labelled corpus and what the simulated reader told the gatekeeper up front."""

    name: str
    messages: list[LabelledMessage]  # sorted by arrival order
    interests: list[str] = field(default_factory=list)
    disinterests: list[str] = field(default_factory=list)
    train_share: float = 0.5  # earlier share: batch training set / online stream


@dataclass
class Prepared:
    """A task's messages parsed and embedded once, shared by every protocol."""

    task: Task
    messages: list[Message]
    embeddings: np.ndarray
    wanted: np.ndarray  # bool per message
    times: np.ndarray  # arrival time in seconds, spaced evenly when unknown
    seconds: dict[str, float]  # time spent parsing and embedding

    @property
    def split(self) -> int:
        return int(len(self.messages) * self.task.train_share)


# -- metrics ----------------------------------------------------------------------------
def auc(wanted: np.ndarray, p: np.ndarray) -> float:
    """Area under the ROC curve: P(a random wanted message scores above a random unwanted)."""
    ranks = _average_ranks(p)
    positives = wanted.sum()
    negatives = len(wanted) - positives
    if not positives or not negatives:
        return float("nan")
    return float((ranks[wanted].sum() - positives * (positives + 1) / 2) / (positives * negatives))


def _average_ranks(values: np.ndarray) -> np.ndarray:
    order = np.argsort(values, kind="mergesort")
    ranks = np.empty(len(values))
    sorted_values = values[order]
    boundaries = np.flatnonzero(np.diff(sorted_values)) + 1
    starts = np.concatenate([[0], boundaries])
    ends = np.concatenate([boundaries, [len(values)]])
    for start, end in zip(starts, ends):
        ranks[order[start:end]] = (start + end + 1) / 2.0
    return ranks


def removed_at_loss(wanted: np.ndarray, p: np.ndarray, max_lost: float) -> float:
    """Share of unwanted mail removable while losing at most `max_lost` of wanted mail."""
    unwanted_scores = p[~wanted]
    if not len(unwanted_scores) or not wanted.any():
        return float("nan")
    allowed = int(np.floor(max_lost * wanted.sum()))
    threshold = np.sort(p[wanted])[allowed] if allowed < wanted.sum() else np.inf
    return float((unwanted_scores < threshold).mean())


def calibration(wanted: np.ndarray, p: np.ndarray, bins: int = 10) -> dict:
    """Reliability curve (mean predicted vs observed per bin), expected calibration error, Brier."""
    edges = np.linspace(0, 1, bins + 1)
    index = np.clip(np.digitize(p, edges) - 1, 0, bins - 1)
    curve, ece = [], 0.0
    for b in range(bins):
        members = index == b
        if members.any():
            predicted, observed = float(p[members].mean()), float(wanted[members].mean())
            curve.append({"bin": b, "n": int(members.sum()), "predicted": predicted,
                          "observed": observed})
            ece += members.mean() * abs(predicted - observed)
    return {"curve": curve, "ece": float(ece), "brier": float(((p - wanted) ** 2).mean())}


def decision_counts(wanted: np.ndarray, actions: Sequence[str]) -> dict:
    actions = np.asarray(actions)
    counts = {f"{kind}_{action}": int(((wanted == is_wanted) & (actions == action)).sum())
              for kind, is_wanted in (("wanted", True), ("unwanted", False))
              for action in (PASS, HOLD, DELETE)}
    n_wanted, n_unwanted = max(wanted.sum(), 1), max((~wanted).sum(), 1)
    counts |= {
        "wanted_lost_share": counts["wanted_delete"] / n_wanted,
        "wanted_held_share": counts["wanted_hold"] / n_wanted,
        "unwanted_removed_share": (counts["unwanted_hold"] + counts["unwanted_delete"]) / n_unwanted,
    }
    return counts


def score_metrics(wanted: np.ndarray, p: np.ndarray) -> dict:
    return {
        "auc": auc(wanted, p),
        "removed_at_0.1%_lost": removed_at_loss(wanted, p, 0.001),
        "removed_at_1%_lost": removed_at_loss(wanted, p, 0.01),
        "calibration": calibration(wanted, p),
    }


# -- preparation ------------------------------------------------------------------------
class EmbeddingCache:
    """Embeddings of evaluation corpora on disk, keyed by model and content hash."""

    def __init__(self, folder: Path | None, embedder: Embedder) -> None:
        safe = embedder.model_id.replace("/", "_").replace("@", "_")
        self.path = folder / f"{safe}.npz" if folder else None
        self.embedder = embedder
        self.vectors: dict[str, np.ndarray] = {}
        if self.path and self.path.exists():
            with np.load(self.path, allow_pickle=False) as data:
                self.vectors = dict(zip(data["keys"].tolist(), data["vectors"]))

    def embed(self, messages: Sequence[Message], progress: Callable[[int], None] | None = None):
        missing = list(dict.fromkeys(m.content_hash for m in messages
                                     if m.content_hash not in self.vectors))
        texts = {m.content_hash: m.text_for_embedding() for m in messages}
        for start in range(0, len(missing), 64):
            chunk = missing[start : start + 64]
            self.vectors.update(zip(chunk, self.embedder.embed_many([texts[k] for k in chunk])))
            if progress:
                progress(len(chunk))
            if start % 1024 == 0:
                self.save()
        self.save()
        return np.stack([self.vectors[m.content_hash] for m in messages])

    def save(self) -> None:
        if self.path:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            keys = np.array(list(self.vectors), dtype="U64")
            vectors = np.stack(list(self.vectors.values())) if self.vectors else np.zeros((0, 384))
            np.savez(self.path.with_suffix(".tmp.npz"), keys=keys, vectors=vectors)
            self.path.with_suffix(".tmp.npz").replace(self.path)


def prepare(task: Task, embedder: Embedder, cache_dir: Path | None = None,
            progress: Callable[[int], None] | None = None) -> Prepared:
    start = time.perf_counter()
    messages = [parse(item.raw) for item in task.messages]
    parsed = time.perf_counter()
    embeddings = EmbeddingCache(cache_dir, embedder).embed(messages, progress)
    embedded = time.perf_counter()
    wanted = np.array([item.wanted for item in task.messages])
    times = np.arange(len(messages)) * (DAY / 40)  # about 40 messages a day
    return Prepared(task, messages, embeddings, wanted, times,
                    {"parse": parsed - start, "embed": embedded - parsed})


def new_brain(prepared: Prepared, embedder: Embedder, settings: PolicySettings,
              profile_params: dict | None = None) -> Brain:
    brain = Brain(embedder, InterestProfile(**(profile_params or {})), settings=settings)
    if prepared.task.interests or prepared.task.disinterests:
        brain.set_interests(prepared.task.interests, prepared.task.disinterests)
    return brain


def assess_range(brain: Brain, prepared: Prepared, indexes: Sequence[int]) -> list[Assessment]:
    """Assess messages the way the pipeline does, timed per message as they arrive."""
    return [brain.assess([prepared.messages[i]], now=prepared.times[i],
                         embeddings=prepared.embeddings[i : i + 1])[0] for i in indexes]


# -- protocols --------------------------------------------------------------------------
def run_batch(prepared: Prepared, embedder: Embedder, settings: PolicySettings,
              profile_params: dict | None = None) -> dict:
    """Learn from the earlier part as the reader's history, decide the later part."""
    brain = new_brain(prepared, embedder, settings, profile_params)
    split = prepared.split
    behaviours = ["read_soon" if wanted else "deleted_unread" for wanted in prepared.wanted[:split]]
    brain.learn_history(prepared.messages[:split], prepared.embeddings[:split], behaviours,
                        prepared.times[:split])
    return _decide_and_measure(brain, prepared, range(prepared.split, len(prepared.messages)))


def _decide_and_measure(brain: Brain, prepared: Prepared, indexes: Sequence[int]) -> dict:
    start = time.perf_counter()
    assessments = assess_range(brain, prepared, indexes)
    elapsed = time.perf_counter() - start
    wanted = prepared.wanted[list(indexes)]
    p = np.array([a.probability for a in assessments])
    result = score_metrics(wanted, p) | decision_counts(wanted, [a.verdict.action for a in assessments])
    result["score_and_decide_per_s"] = len(indexes) / elapsed
    return result


@dataclass
class SimulatedReader:
    """How the evaluation's reader reacts to what the gatekeeper did."""

    review_every: int = 40  # looks at the held folder after this many arrivals (~a day)

    def react(self, wanted: bool, action: str) -> str | None:
        """The reader's reaction to a passed message, None for held or deleted mail."""
        if action != PASS:
            return None
        return "read_soon" if wanted else "deleted_unread"

    def review(self, wanted: bool) -> str:
        """What the reader does with a held message when looking at the held folder."""
        return "rescued" if wanted else "deleted_from_held"


def run_online(prepared: Prepared, embedder: Embedder, settings: PolicySettings,
               profile_params: dict | None = None, reader: SimulatedReader | None = None,
               consolidate_every: int = 25, curve_points: Sequence[int] = CURVE_POINTS) -> dict:
    """Stream the earlier part through decide -> react -> learn; test on the later part."""
    reader = reader or SimulatedReader()
    brain = new_brain(prepared, embedder, settings, profile_params)
    test = range(prepared.split, len(prepared.messages))
    curve: list[dict] = []
    held: list[tuple[Assessment, bool]] = []
    actions, reactions, pending = [], 0, []
    points = sorted(set(curve_points))

    def measure_curve() -> None:
        while points and reactions >= points[0]:
            assessments = assess_range(brain, prepared, test)
            wanted = prepared.wanted[list(test)]
            counts = decision_counts(wanted, [a.verdict.action for a in assessments])
            curve.append({"reactions": points.pop(0),
                          "auc": auc(wanted, np.array([a.probability for a in assessments])),
                          "wanted_lost_share": counts["wanted_lost_share"],
                          "wanted_held_share": counts["wanted_held_share"],
                          "unwanted_removed_share": counts["unwanted_removed_share"]})

    measure_curve()
    for i in range(prepared.split):
        (assessment,) = assess_range(brain, prepared, [i])
        brain.observe(assessment, prepared.times[i])
        actions.append(assessment.verdict.action)
        wanted = bool(prepared.wanted[i])
        behaviour = reader.react(wanted, assessment.verdict.action)
        if behaviour:
            pending.append((assessment, behaviour))
        elif assessment.verdict.action == HOLD:
            held.append((assessment, wanted))
        if (i + 1) % reader.review_every == 0:
            pending += [(a, reader.review(w)) for a, w in held]
            held.clear()
        for item in pending:
            brain.learn(*item, now=prepared.times[i])
            reactions += 1
            if reactions % consolidate_every == 0:
                brain.profile.consolidate(now=prepared.times[i])
            measure_curve()
        pending.clear()
    brain.profile.consolidate(now=prepared.times[prepared.split - 1])
    stream = decision_counts(prepared.wanted[: prepared.split], actions)
    result = _decide_and_measure(brain, prepared, test)
    return result | {"stream": stream, "reactions": reactions, "learning_curve": curve}


def run_baselines(prepared: Prepared, baselines: Sequence) -> dict:
    """Each baseline fitted on the earlier part, scored on the later, same split."""
    raws = [item.raw for item in prepared.task.messages]
    split, wanted = prepared.split, prepared.wanted
    results = {}
    for baseline in baselines:
        start = time.perf_counter()
        baseline.fit(raws[:split], wanted[:split].tolist())
        fitted = time.perf_counter()
        p = np.asarray(baseline.score(raws[split:]), dtype=float)
        scored = time.perf_counter()
        results[baseline.name] = score_metrics(wanted[split:], p) | {
            "fit_s": fitted - start, "score_per_s": (len(raws) - split) / (scored - fitted)}
        logger.info("%s: AUC %.4f", baseline.name, results[baseline.name]["auc"])
    return results
