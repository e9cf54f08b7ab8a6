"""Learning from the mail the reader already has: what `gatekeeper train` does.

The history says what the reader wants without asking: mail they sent names their
correspondents; mail they answered, flagged or read counts for; mail in Trash that was
never opened, mail they junked, and bulk mail left unread for weeks count against. Each
becomes a lesson (oldest first, sender signals as of each message's arrival), recorded in
the store as a reaction from "train", in place of the last training's; mail the daemon
already decided is left to what the reader did with it then. The brain learns the lessons
by catching up with the store (one refit), here or in the running daemon, after an honest
check: fitted on the earlier 80% only, how well does the profile separate what the reader
kept from what they threw away in the latest 20%?
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

import numpy as np

from .brain import Brain, learning_signal
from .learning import catch_up
from .lesson import Lesson, evidence_of
from .metrics import auc
from .mailbox import SEEN, Fetched, Mailbox
from .message import Message, parse
from .profile import InterestProfile
from .store import Store
from .vocabulary import Behaviour

UNREAD_IGNORED_DAYS = 14  # bulk mail still unread after this long was ignored
CHUNK = 200  # messages fetched per request
WEEK = 7 * 86400.0
SOURCE = "train"  # the source of the reactions training records


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


def _fetch_all(mailbox: Mailbox, folder: str, uids: list[int],
               progress: Callable[[int], None]) -> list[Fetched]:
    fetched: list[Fetched] = []
    for start in range(0, len(uids), CHUNK):
        fetched += mailbox.fetch(folder, uids[start:start + CHUNK])
        progress(len(uids[start:start + CHUNK]))
    return fetched


def train(mailbox: Mailbox, brain: Brain, store: Store, days: int = 180,
          now: float | None = None, progress: Callable[[int], None] = lambda n: None,
          total: Callable[[int], None] = lambda n: None) -> TrainingReport:
    """Learn the reader's last `days` of mail: record it in the store as lessons, in place
    of the last training's, and bring `brain` up to date with them.

    `total` is told how many messages there are to read, `progress` how many were read
    or embedded since it was last called (both count, so the total is told twice over).
    """
    now = time.time() if now is None else now
    account = mailbox.account
    sent, history, report = _read_history(mailbox, brain, store, days, now, progress, total)
    times = [entry[0] for entry in history]
    messages = [entry[1] for entry in history]
    behaviours = [entry[2] for entry in history]
    embeddings = np.vstack([_embed_counted(brain, messages[start:start + 64], progress)
                            for start in range(0, len(messages), 64)]) if messages else \
        np.zeros((0, brain.embedder.dimension), np.float32)
    lessons = brain.history_lessons(messages, embeddings, behaviours, times, sent)
    with store.transaction():
        store.take_back(account, SOURCE)
        for lesson in [*sent, *lessons]:
            store.record_reaction(account, lesson.message_id, lesson.behaviour, SOURCE,
                                  lesson.at, lesson)
    report.heldout_auc, report.heldout_examples = _heldout(brain.profile, lessons)
    catch_up(brain, store, account)
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
                  progress, total) -> tuple[list[Lesson], list, TrainingReport]:
    """(lessons of the mail the reader sent, (arrival, message, behaviour) of the mail
    that says something, oldest first, the report so far). Mail the daemon decided is
    left out: what the reader did with it was learned as it happened."""
    since = (datetime.fromtimestamp(now, timezone.utc) - timedelta(days=days)).date()
    folders = mailbox.folders()
    roles = [("sent", folders.sent), ("inbox", folders.inbox), ("archive", folders.archive),
             ("trash", folders.trash), ("junk", folders.junk)]
    uids = {role: mailbox.uids_since(folder, since) if folder else [] for role, folder in roles}
    total(2 * sum(map(len, uids.values())) - len(uids["sent"]))
    decided = store.decided_message_ids(mailbox.account)
    report = TrainingReport()
    sent: list[Lesson] = []
    history: list[tuple[float, Message, str]] = []
    for role, folder in roles:
        for item in _fetch_all(mailbox, folder, uids[role], progress):
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


def _embed_counted(brain: Brain, messages: list[Message], progress) -> np.ndarray:
    vectors = brain.embed(messages)
    progress(len(messages))
    return vectors


def _heldout(profile: InterestProfile, lessons: list[Lesson]) -> tuple[float, int]:
    """AUC on the latest 20% of a profile fitted, from scratch, on the earlier 80%."""
    examples = [lesson.example for lesson in lessons if lesson.example is not None]
    split = int(0.8 * len(examples))
    labels = np.array([e.label == 1 for e in examples[split:]])
    if split == 0 or labels.all() or not labels.any():
        return float("nan"), len(labels)
    trial = InterestProfile(**profile.get_params())
    trial.set_statements(profile.interests_, profile.disinterests_)
    earlier = examples[:split]
    trial.fit(evidence_of(earlier), [e.label for e in earlier],
              sample_weight=[e.weight for e in earlier],
              times=[lesson.at for lesson in lessons if lesson.example is not None][:split])
    return auc(labels, trial.predict_proba(evidence_of(examples[split:]))[:, 1]), len(labels)
