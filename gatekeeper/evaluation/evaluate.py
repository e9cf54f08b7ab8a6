"""Replay labelled mail through the real parse -> embed -> score -> decide code and measure.

A task's messages are parsed and embedded once (`prepare`), then each protocol runs on a
`splits.Split`, which names the messages learned from and the messages decided:

- batch: learn from the reader's history as if they had kept or thrown away each learned
  message (`Brain.learn_history`, as `gatekeeper train` does), then score and decide;
- online and prequential (`prequential`): messages arrive in order, the policy decides,
  a simulated reader reacts, and the brain learns only from those reactions;
- baselines (`baselines`): fitted on the same learned messages, scoring the same decided.
"""

from __future__ import annotations

import hashlib
import logging
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..core.brain import Assessment, Brain
from ..core.embed import Embedder
from ..core.message import Message, parse
from ..core.policy import PolicySettings
from ..core.profile import InterestProfile
from .corpus import LabelledMessage
from ..core.metrics import auc, bootstrap_interval, decision_counts, metric_intervals, score_metrics, \
    slice_metrics
from .splits import Split, sender_organisation

logger = logging.getLogger(__name__)

DAY = 86400.0
ARRIVALS_PER_DAY = 40  # messages spaced evenly in time: corpus dates are too often wrong


@dataclass
class Task:
    """A labelled corpus and what the simulated reader told the gatekeeper up front."""

    name: str
    messages: list[LabelledMessage]  # sorted by arrival order
    interests: list[str] = field(default_factory=list)
    disinterests: list[str] = field(default_factory=list)
    time_cut: float = 0.5  # earlier share of the mail that the time split learns from
    slices: dict[str, str] = field(default_factory=dict)  # label -> name of its slice
    new_kinds: tuple[str, ...] = ()  # labels the new_kind split never learns (`splits`)


@dataclass
class Prepared:
    """A task's messages parsed and embedded once, shared by every protocol."""

    task: Task
    messages: list[Message]
    embeddings: np.ndarray
    wanted: np.ndarray  # bool per message
    times: np.ndarray  # arrival time in seconds, spaced evenly
    labels: list[str]  # the folder or group of each message
    senders: list[str]  # the sender organisation of each message (`splits`)
    seconds: dict[str, float]  # time spent parsing and embedding


# -- preparation ------------------------------------------------------------------------
class EmbeddingCache:
    """Embeddings of evaluation corpora on disk, one file per model, keyed by the SHA-256
    of the very text embedded: a change to what `Message.text_for_embedding` gives reads
    the messages again instead of measuring with the vectors of the old text."""

    def __init__(self, folder: Path | None, embedder: Embedder) -> None:
        safe = embedder.model_id.replace("/", "_").replace("@", "_")
        self.path = folder / f"{safe}.by-text.npz" if folder else None
        self.embedder = embedder
        self.vectors: dict[str, np.ndarray] = {}
        if self.path and self.path.exists():
            with np.load(self.path, allow_pickle=False) as data:
                self.vectors = dict(zip(data["keys"].tolist(), data["vectors"]))

    def embed(self, messages: Sequence[Message], progress: Callable[[int], None] | None = None):
        keyed = [(hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest(), text)
                 for text in (m.text_for_embedding() for m in messages)]
        texts = dict(keyed)
        missing = [key for key in texts if key not in self.vectors]
        for start in range(0, len(missing), 64):
            chunk = missing[start : start + 64]
            self.vectors.update(zip(chunk, self.embedder.embed_many([texts[k] for k in chunk])))
            if progress:
                progress(len(chunk))
            if start % 1024 == 0:
                self.save()
        self.save()
        return np.stack([self.vectors[key] for key, _ in keyed])

    def save(self) -> None:
        if self.path:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            keys = np.array(list(self.vectors), dtype="U64")
            vectors = np.stack(list(self.vectors.values())) if self.vectors else np.zeros((0, 384))
            # A temporary file of this process's own: two runs sharing a cache each
            # replace the file whole, and neither loses the other's file under it.
            temporary = self.path.with_suffix(f".{os.getpid()}.tmp.npz")
            np.savez(temporary, keys=keys, vectors=vectors)
            temporary.replace(self.path)


def prepare(task: Task, embedder: Embedder, cache_dir: Path | None = None,
            progress: Callable[[int], None] | None = None) -> Prepared:
    """Parse and embed a task's messages (embeddings cached in `cache_dir`)."""
    start = time.perf_counter()
    messages = [parse(item.raw) for item in task.messages]
    parsed = time.perf_counter()
    embeddings = EmbeddingCache(cache_dir, embedder).embed(messages, progress)
    embedded = time.perf_counter()
    wanted = np.array([item.wanted for item in task.messages], bool)
    times = np.arange(len(messages)) * (DAY / ARRIVALS_PER_DAY)
    return Prepared(task, messages, embeddings, wanted, times,
                    [item.label for item in task.messages],
                    [sender_organisation(m.from_domain) for m in messages],
                    {"parse": parsed - start, "embed": embedded - parsed})


def new_brain(prepared: Prepared, embedder: Embedder, settings: PolicySettings,
              profile_params: dict | None = None) -> Brain:
    """A brain that knows only the task's interest statements."""
    brain = Brain(embedder, InterestProfile(**(profile_params or {})), settings=settings)
    if prepared.task.interests or prepared.task.disinterests:
        brain.set_interests(prepared.task.interests, prepared.task.disinterests)
    return brain


Indexes = Sequence[int] | np.ndarray  # positions in a prepared corpus


def assess_range(brain: Brain, prepared: Prepared, indexes: Indexes) -> list[Assessment]:
    """Assess messages the way the pipeline does, each at its own arrival time."""
    return [brain.assess([prepared.messages[i]], now=prepared.times[i],
                         embeddings=prepared.embeddings[i : i + 1])[0] for i in indexes]


def learn_history(brain: Brain, prepared: Prepared, indexes: Indexes) -> None:
    """The reader kept the wanted messages (read soon) and threw the rest away unread."""
    chosen = list(indexes)
    if not chosen:
        return
    behaviours = ["read_soon" if prepared.wanted[i] else "deleted_unread" for i in chosen]
    brain.learn_history([prepared.messages[i] for i in chosen], prepared.embeddings[chosen],
                        behaviours, list(prepared.times[chosen]))


def measure(prepared: Prepared, indexes: Indexes, p: np.ndarray,
            actions: Sequence[str] | None = None) -> dict:
    """Scores (and decisions) on these messages: ranking, calibration, slices, counts, and
    the headline figures' intervals (each sender organisation's mail resampled as one)."""
    indexes = list(indexes)
    wanted = prepared.wanted[indexes]
    labels = [prepared.labels[i] for i in indexes]
    senders = [prepared.senders[i] for i in indexes]
    result = score_metrics(wanted, p) | {
        "slices": slice_metrics(wanted, p, labels, actions),
        "intervals": metric_intervals(wanted, p, labels, actions, senders)}
    return result | (decision_counts(wanted, actions) if actions is not None else {})


def decide_and_measure(brain: Brain, prepared: Prepared,
                       indexes: Indexes) -> tuple[dict, np.ndarray]:
    """The figures, and each message's P(wanted) behind them."""
    start = time.perf_counter()
    assessments = assess_range(brain, prepared, indexes)
    elapsed = time.perf_counter() - start
    p = np.array([a.probability for a in assessments])
    result = measure(prepared, indexes, p, [a.verdict.action for a in assessments])
    return result | {"score_and_decide_per_s": len(assessments) / max(elapsed, 1e-9)}, p


# -- protocols --------------------------------------------------------------------------
def run_batch(prepared: Prepared, split: Split, embedder: Embedder, settings: PolicySettings,
              profile_params: dict | None = None) -> tuple[dict, np.ndarray]:
    """Learn the split's learned messages as the reader's history, decide the rest: the
    figures, and the P(wanted) given each decided message."""
    brain = new_brain(prepared, embedder, settings, profile_params)
    learn_history(brain, prepared, split.learn)
    return decide_and_measure(brain, prepared, split.decide)


def run_baselines(prepared: Prepared, split: Split, baselines: Sequence,
                  against: np.ndarray | None = None) -> dict:
    """Each baseline fitted on the learned messages, scored on the decided ones. With
    `against` (the gatekeeper's P(wanted) for the decided messages), each also gets
    `gatekeeper_auc_gain`: the gatekeeper's AUC minus its own, with an interval from
    resampling both on the same messages. Whether one filter beats another is a question
    about that difference; two intervals side by side answer it only when they do not
    overlap."""
    raws = [item.raw for item in prepared.task.messages]
    wanted = prepared.wanted[split.decide]
    senders = [prepared.senders[i] for i in split.decide]
    results = {}
    for baseline in baselines:
        start = time.perf_counter()
        baseline.fit([raws[i] for i in split.learn], prepared.wanted[split.learn].tolist())
        fitted = time.perf_counter()
        p = np.asarray(baseline.score([raws[i] for i in split.decide]), dtype=float)
        scored = time.perf_counter()
        row = measure(prepared, split.decide, p) | {
            "fit_s": fitted - start, "score_per_s": len(split.decide) / max(scored - fitted, 1e-9)}
        if against is not None:
            row["gatekeeper_auc_gain"] = _auc_gain(wanted, against, p)
            row["intervals"]["gatekeeper_auc_gain"] = bootstrap_interval(
                _auc_gain, wanted, against, p, senders=senders)
        results[baseline.name] = row
        logger.info("%s %s: AUC %.4f", split.name, baseline.name, row["auc"])
    return results


def _auc_gain(wanted: np.ndarray, ours: np.ndarray, theirs: np.ndarray) -> float:
    return auc(wanted, ours) - auc(wanted, theirs)
