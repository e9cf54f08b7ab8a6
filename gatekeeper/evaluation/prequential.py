"""Mail decided in arrival order while the brain learns from a simulated reader.

The daemon's loop without a mailbox: each message is assessed and decided when it arrives
(`Brain.assess`, `Brain.observe`); the reader reads the wanted mail it finds in the inbox
and deletes the rest unread a little later, looks at the held folder once a day, rescues
what it wants and clears the rest, and never sees what went to Trash; the brain learns
each reaction as the observer reports it (`Brain.learn`) and refits its profile after
each daily look and every `consolidate_every` reactions, as the daemon's periodic refit.

Two protocols run on it:
- prequential: the reader's history learned first (`gatekeeper train`), then the stream;
  every figure counts each message as it was decided before anything was learned from it,
  which is the figure a user lives with;
- online: no history, only the interest statements; the stream's reactions are all the
  brain learns, and a learning curve measures other mail after N reactions.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from ..core.brain import Assessment, Brain
from ..core.embed import Embedder
from .evaluate import DAY, Indexes, Prepared, assess_range, decide_and_measure, learn_history, measure, \
    new_brain
from ..core.policy import DELETE, HOLD, PASS, PolicySettings, thrown_away_like
from ..core.metrics import auc, bootstrap_interval, decision_counts, share_interval
from .splits import Split

CURVE_POINTS = (0, 10, 50, 100, 200)
CHECKPOINTS = (0.1, 0.25, 0.5, 1.0)  # shares of the stream at which cumulative figures are kept


@dataclass
class SimulatedReader:
    """How the evaluation's reader reacts to what the gatekeeper did."""

    react_after: float = 2 * 3600.0  # seconds until the reader reads or deletes new mail
    review_every: float = DAY  # seconds between looks at the held folder

    def react(self, wanted: bool, action: str) -> str | None:
        """The reader's reaction to a passed message, None for held or deleted mail."""
        if action != PASS:
            return None
        return "read_soon" if wanted else "deleted_unread"

    def review(self, wanted: bool) -> str:
        """What the reader does with a held message when looking at the held folder."""
        return "rescued" if wanted else "deleted_from_held"


@dataclass
class ReaderWork:
    """What the reader had to do by hand because the gatekeeper was not perfect."""

    inbox_deletes: int = 0  # unwanted mail passed, deleted from the inbox one by one
    rescues: int = 0  # wanted mail held, moved back to the inbox one by one
    held_clearouts: int = 0  # looks at the held folder that found unwanted mail to clear

    @property
    def actions(self) -> int:
        return self.inbox_deletes + self.rescues + self.held_clearouts


@dataclass
class Stream:
    """One brain and one reader, with messages arriving in order (see the module)."""

    brain: Brain
    prepared: Prepared
    reader: SimulatedReader = field(default_factory=SimulatedReader)
    consolidate_every: int = 25
    after_reaction: Callable[[int], None] = lambda reactions: None
    assessments: list[Assessment] = field(default_factory=list)
    work: ReaderWork = field(default_factory=ReaderWork)
    reactions: int = 0

    def __post_init__(self) -> None:
        self._due: list[tuple[float, int, Assessment, str]] = []  # reactions, by time
        self._held: list[tuple[Assessment, bool]] = []
        self._order = itertools.count()
        self._next_review: float | None = None
        self._last: float | None = None
        self.work_after: list[int] = []  # the reader's actions so far, after each arrival

    def run(self, indexes: Indexes) -> Stream:
        """Decide these messages in order, the reader reacting as time passes, then let
        the reader catch up on the last of them."""
        for index in indexes:
            self.arrive(index)
        return self.finish()

    def arrive(self, index: int) -> Assessment:
        """One message arrives after everything the reader did before it."""
        now = float(self.prepared.times[index])
        self._catch_up(now)
        (assessment,) = assess_range(self.brain, self.prepared, [index])
        self.brain.observe(assessment, now)
        self.assessments.append(assessment)
        wanted, action = bool(self.prepared.wanted[index]), assessment.verdict.action
        behaviour = self.reader.react(wanted, action)
        if behaviour:
            self.work.inbox_deletes += not wanted
            heapq.heappush(self._due, (now + self.reader.react_after, next(self._order),
                                       assessment, behaviour))
        elif action == HOLD:
            self._held.append((assessment, wanted))
        if self._next_review is None:
            self._next_review = now + self.reader.review_every
        self.work_after.append(self.work.actions)
        self._last = now
        return assessment

    def finish(self) -> Stream:
        """After the last arrival: every reaction learned, the held folder looked at."""
        if self._last is not None:
            end = max([self._last + self.reader.review_every, *(due[0] for due in self._due)])
            self._catch_up(end)
            if self._held:
                self._review(end)
            self.work_after[-1] = self.work.actions  # the last look counts with the last message
        return self

    def _catch_up(self, now: float) -> None:
        """Everything the reader did up to `now`, in order: reactions and daily looks."""
        while True:
            reaction = self._due[0][0] if self._due else np.inf
            review = self._next_review if self._next_review is not None else np.inf
            if min(reaction, review) > now:
                return
            if reaction <= review:
                when, _, assessment, behaviour = heapq.heappop(self._due)
                self._learn(assessment, behaviour, when)
            else:
                self._review(review)
                self._next_review = review + self.reader.review_every

    def _review(self, now: float) -> None:
        held, self._held = self._held, []
        self.work.held_clearouts += any(not wanted for _, wanted in held)
        for assessment, wanted in held:
            self.work.rescues += wanted
            self._learn(assessment, self.reader.review(wanted), now)
        self.brain.profile.consolidate(now=now)

    def _learn(self, assessment: Assessment, behaviour: str, now: float) -> None:
        self.brain.learn(assessment, behaviour, now)
        self.reactions += 1
        if self.reactions % self.consolidate_every == 0:
            self.brain.profile.consolidate(now=now)
        self.after_reaction(self.reactions)


def _cumulative(wanted: np.ndarray, actions: Sequence[str], like: np.ndarray,
                work: list[int]) -> dict:
    """Shares over the first messages of a stream (`like`: the reader had thrown away mail
    like each; `work`: the reader's actions so far after each)."""
    counts = decision_counts(wanted, actions)
    keep = ("wanted_lost_share", "wanted_held_share", "unwanted_left_share",
            "unwanted_removed_share", "removed_to_trash_share")
    return {"messages": len(actions), **{k: counts[k] for k in keep},
            "removed_to_trash_once_like_share": _to_trash_share(wanted, actions, like),
            "actions_per_100": 100.0 * work[-1] / max(len(actions), 1)}


def _to_trash_share(wanted: np.ndarray, actions: Sequence[str], like: np.ndarray) -> float:
    """Of the unwanted mail kept out of the inbox after the reader had thrown away mail
    like it (`policy.thrown_away_like`), the share that went straight to Trash."""
    chosen = np.asarray(actions)
    removed = ~wanted & like & (chosen != PASS)
    return float((chosen[removed] == DELETE).mean()) if removed.any() else float("nan")


def run_prequential(prepared: Prepared, split: Split, embedder: Embedder,
                    settings: PolicySettings, profile_params: dict | None = None,
                    reader: SimulatedReader | None = None) -> dict:
    """The split's learned mail as the reader's history, then its decided mail as a stream."""
    brain = new_brain(prepared, embedder, settings, profile_params)
    learn_history(brain, prepared, split.learn)
    stream = Stream(brain, prepared, reader or SimulatedReader()).run(split.decide)
    return _prequential_result(prepared, split, stream)


def _prequential_result(prepared: Prepared, split: Split, stream: Stream) -> dict:
    wanted = prepared.wanted[split.decide]
    actions = [a.verdict.action for a in stream.assessments]
    p = np.array([a.probability for a in stream.assessments])
    like = np.array([thrown_away_like(a.history) for a in stream.assessments], bool)
    cumulative = []
    for share in CHECKPOINTS:
        n = max(1, int(round(share * len(actions))))
        cumulative.append({"share": share} | _cumulative(wanted[:n], actions[:n], like[:n],
                                                         stream.work_after[:n]))
    work = stream.work
    result = measure(prepared, split.decide, p, actions)
    chosen, senders = np.asarray(actions), np.array([prepared.senders[i] for i in split.decide])
    removed_once_like = ~wanted & like & (chosen != PASS)
    result["intervals"]["removed_to_trash_once_like_share"] = share_interval(
        chosen[removed_once_like] == DELETE, senders[removed_once_like])
    return result | {
        "removed_to_trash_once_like_share": _to_trash_share(wanted, actions, like),
        "reactions": stream.reactions,
        "reader": {"inbox_deletes": work.inbox_deletes, "rescues": work.rescues,
                   "held_clearouts": work.held_clearouts,
                   "actions_per_100": 100.0 * work.actions / max(len(actions), 1)},
        "cumulative": cumulative,
    }


def run_online(prepared: Prepared, split: Split, embedder: Embedder, settings: PolicySettings,
               profile_params: dict | None = None, reader: SimulatedReader | None = None,
               curve_points: Sequence[int] = CURVE_POINTS) -> dict:
    """Only the statements, then the learned mail as a stream; decide the rest after it.
    The learning curve measures the decided mail after each of `curve_points` reactions."""
    brain = new_brain(prepared, embedder, settings, profile_params)
    points = sorted(set(curve_points))
    curve: list[dict] = []
    senders = [prepared.senders[i] for i in split.decide]

    def measure_curve(reactions: int) -> None:
        while points and reactions >= points[0]:
            assessments = assess_range(brain, prepared, split.decide)
            wanted = prepared.wanted[split.decide]
            counts = decision_counts(wanted, [a.verdict.action for a in assessments])
            p = np.array([a.probability for a in assessments])
            curve.append({"reactions": points.pop(0), "auc": auc(wanted, p),
                          "intervals": {"auc": bootstrap_interval(auc, wanted, p,
                                                                  senders=senders)},
                          **{k: counts[k] for k in ("wanted_lost_share", "wanted_held_share",
                                                    "unwanted_removed_share")}})

    measure_curve(0)
    stream = Stream(brain, prepared, reader or SimulatedReader(), after_reaction=measure_curve)
    stream.run(split.learn)
    learned = decision_counts(prepared.wanted[split.learn],
                              [a.verdict.action for a in stream.assessments])
    result, _ = decide_and_measure(brain, prepared, split.decide)
    return result | {"stream": learned, "reactions": stream.reactions, "learning_curve": curve}
