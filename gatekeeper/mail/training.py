"""Learning from the mail the reader already has: what `gatekeeper train` does.

The history says what the reader wants without asking: mail they sent names their
correspondents; mail they answered, flagged or read counts for; mail in Trash that was
never opened, mail they junked, and bulk mail left unread for weeks count against. Each
becomes a lesson (sender signals as of each message's arrival), recorded in the store as
a reaction from "train", in place of the last training's; mail the daemon already decided
is left to what the reader did with it then.

The model reads about 60 messages a second on two cores, so a large mailbox is learned
newest first, in two stages: the newest `FIRST_STAGE` messages are recorded and learned
(and the caller told, so it can save a usable profile) within a minute or two, then all
older mail. The brain learns each stage by catching up with the store, here or in the
running daemon. At the end an honest check: fitted on the earlier 80% only, how well
does the profile separate what the reader kept from what they threw away in the latest 20%?
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol
from datetime import datetime, timedelta, timezone

import numpy as np

from ..core.brain import Brain, learning_signal
from ..core.lesson import Lesson, evidence_of
from ..core.message import Message, parse
from ..core.profile import InterestProfile
from ..core.vocabulary import Behaviour
from ..core.metrics import auc
from .learning import TRAINING, catch_up
from .mailbox import SEEN, Fetched, Mailbox, MessageRef
from .store import Store

UNREAD_IGNORED_DAYS = 14  # bulk mail still unread after this long was ignored
CHUNK = 200  # messages fetched per request
WEEK = 7 * 86400.0
SOURCE = TRAINING  # the source of the reactions training records
FIRST_STAGE = 1_000  # newest messages learned before the first save: ~20 s of the model


class Progress(Protocol):
    """Told what training is doing: a stage with its size, then steps through it."""

    def stage(self, description: str, total: int) -> None: ...
    def advance(self, amount: int) -> None: ...


class _Silent:
    def stage(self, description: str, total: int) -> None:
        pass

    def advance(self, amount: int) -> None:
        pass


silent: Progress = _Silent()


@dataclass
class TrainingReport:
    """What training found and learned."""

    messages: int = 0  # read from the mailbox
    examples: int = 0  # learned from
    behaviours: Counter = field(default_factory=Counter)
    correspondents: int = 0
    heldout_auc: float = float("nan")  # on the latest 20%, fitted on the earlier 80%
    heldout_examples: int = 0
    last_week: Counter = field(default_factory=Counter)  # what it would have done


def behaviour_of(role: str, flags: frozenset[str], message: Message,
                 age_days: float) -> Behaviour | None:
    """What a message's folder and flags say the reader did with it (None: nothing clear)."""
    if role == "junk":
        return Behaviour.JUNKED
    if role == "trash":
        return Behaviour.DELETED_UNREAD if SEEN not in flags else None
    shown = Behaviour.shown_by(flags)
    if shown:
        return shown[0]
    if SEEN in flags:
        return Behaviour.READ
    if message.is_bulk and age_days >= UNREAD_IGNORED_DAYS:
        return Behaviour.IGNORED
    return None


def _arrival(message: Message, now: float) -> float:
    return min(message.date.timestamp(), now) if message.date else now


def _fetch_all(mailbox: Mailbox, folder: str, refs: list[MessageRef],
               progress: Progress) -> list[Fetched]:
    fetched: list[Fetched] = []
    for start in range(0, len(refs), CHUNK):
        fetched += mailbox.fetch(folder, refs[start:start + CHUNK])
        progress.advance(len(refs[start:start + CHUNK]))
    return fetched


def stages(count: int) -> list[range]:
    """The history's positions (oldest first) in the order they are learned: the newest
    `FIRST_STAGE`, then all the older ones. Two stages, not more: each ends in a refit
    with its calibration, and the early save already made the whole of 10,000 messages
    take 171 s against 141 s in one stage (scripts/bench_train.py)."""
    split = max(0, count - FIRST_STAGE)
    return [part for part in (range(split, count), range(0, split)) if part]


def train(mailbox: Mailbox, brain: Brain, store: Store, days: int = 180,
          now: float | None = None, progress: Progress = silent,
          learned: Callable[[int, int], None] = lambda done, of: None) -> TrainingReport:
    """Learn the reader's last `days` of mail: record it in the store as lessons, in place
    of the last training's, and bring `brain` up to date with them, newest mail first.

    `progress` is told of reading the mailbox, then of learning the messages that say
    something; `learned(done, of)` is called each time a stage is recorded and learned
    (`done` of the `of` messages so far), so the caller can make the profile usable.
    """
    now = time.time() if now is None else now
    account = mailbox.account
    sent, history, report = _read_history(mailbox, brain, store, days, now, progress)
    times = [entry[0] for entry in history]
    messages = [entry[1] for entry in history]
    behaviours = [entry[2] for entry in history]
    # Each message's sender signals as they were when it arrived, counted over the whole
    # history before anything is learned; the model's reading is filled in stage by stage.
    drafts = brain.history_lessons(
        messages, np.zeros((len(messages), brain.embedder.dimension), np.float32),
        behaviours, times, sent)
    embeddings = np.zeros((len(messages), brain.embedder.dimension), np.float32)
    progress.stage("learning, newest first", len(messages))
    lessons: list[Lesson] = []
    # Once at least: a training of nothing but sent mail still replaces the last one's.
    for number, stage in enumerate(stages(len(messages)) or [range(0)]):
        for start in range(stage.start, stage.stop, 64):
            batch = slice(start, min(start + 64, stage.stop))
            embeddings[batch] = brain.embed(messages[batch])
            progress.advance(batch.stop - batch.start)
        learning = [drafts[i].read_as(embeddings[i]) for i in stage]
        with store.transaction():
            if number == 0:
                store.take_back(account, SOURCE)
            for lesson in [*(sent if number == 0 else ()), *learning]:
                store.record_reaction(account, lesson.message_id, lesson.behaviour, SOURCE,
                                      lesson.at, lesson)
        catch_up(brain, store, account)
        lessons = learning + lessons
        learned(len(lessons), len(messages))
    report.heldout_auc, report.heldout_examples = _heldout(brain.profile, lessons)
    report.correspondents = len(brain.memory.correspondents)
    report.examples = sum(lesson.example is not None for lesson in lessons)
    report.behaviours = Counter(behaviours)
    recent = [i for i, t in enumerate(times) if t >= now - WEEK]
    if recent:
        assessed = brain.assess([messages[i] for i in recent], now=now,
                                embeddings=embeddings[recent])
        report.last_week = Counter(a.verdict.action for a in assessed)
    return report


def _read_history(mailbox: Mailbox, brain: Brain, store: Store, days: int, now: float,
                  progress: Progress) -> tuple[list[Lesson], list, TrainingReport]:
    """(lessons of the mail the reader sent, (arrival, message, behaviour) of the mail
    that says something, oldest first, the report so far). Mail the daemon decided is
    left out: what the reader did with it was learned as it happened."""
    since = (datetime.fromtimestamp(now, timezone.utc) - timedelta(days=days)).date()
    folders = mailbox.folders()
    roles = [("sent", folders.sent), ("inbox", folders.inbox), ("archive", folders.archive),
             ("trash", folders.trash), ("junk", folders.junk)]
    refs = {role: mailbox.refs_since(folder, since) if folder else [] for role, folder in roles}
    progress.stage("reading your mail", sum(map(len, refs.values())))
    decided = store.decided_message_ids(mailbox.account)
    report = TrainingReport()
    sent: list[Lesson] = []
    history: list[tuple[float, Message, str]] = []
    for role, folder in roles:
        for item in _fetch_all(mailbox, folder, refs[role], progress):
            message = parse(item.raw)
            report.messages += 1
            if role == "sent":
                sent.append(brain.sent_lesson(message))
                continue
            arrived = _arrival(message, now)
            behaviour = behaviour_of(role, item.flags, message, (now - arrived) / 86400)
            if behaviour is not None and learning_signal(behaviour) is not None \
                    and message.message_id not in decided:
                history.append((arrived, message, behaviour))
    history.sort(key=lambda entry: entry[0])
    return sent, history, report


def _heldout(profile: InterestProfile, lessons: list[Lesson]) -> tuple[float, int]:
    """AUC on the latest 20% of a profile fitted, from scratch, on the earlier 80%."""
    examples = [lesson.example for lesson in lessons if lesson.example is not None]
    split = int(0.8 * len(examples))
    labels = np.array([e.label == 1 for e in examples[split:]])
    if split == 0 or labels.all() or not labels.any():
        return float("nan"), len(labels)
    trial = InterestProfile(**profile.get_params())
    trial.set_statements(profile.interests_, profile.disinterests_, profile.interest_words_,
                         profile.junk_)
    earlier = examples[:split]
    trial.fit(evidence_of(earlier), [e.label for e in earlier],
              sample_weight=[e.weight for e in earlier],
              times=[lesson.at for lesson in lessons if lesson.example is not None][:split])
    later = evidence_of(examples[split:])
    return auc(labels, trial.predict_proba(later)[:, 1]), len(labels)
