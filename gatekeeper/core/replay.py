"""The brain's learning about one sender, replayed for a whole audience at once.

The campaign simulator sends one message to thousands of readers, again and again, and
needs what each reader's gatekeeper learns from each reaction, as `Brain.apply` would.
A real `Brain` per reader is too slow, so this replays the learning in closed form on
the one message, vectorised over readers (numpy arrays, one row per reader):

- what each behaviour means (`BEHAVIOURS`, `CODE`): the sender memory's counts and the
  profile's label and weight, from `Behaviour` and `brain.learning_signal`;
- the sender memory's decayed counts for the message's keys (its address, domain, list
  and, for a reply, thread see the same events) and the signals the profile reads from
  them, with the formulas of `gatekeeper.core.senders` (`MemoryReplay`);
- the profile's bounded online steps on the message's row (`profile.OnlineReplay`, kept
  beside `partial_fit`, which it replays).

What the replay leaves out: the daemon's periodic refit (`consolidate`), and anything a
reader's own mail to the sender would teach (a correspondent). tests/test_replay.py holds
each part equal to the code it replays; tests/test_simulate.py the whole to a real Brain.
"""

from __future__ import annotations

from collections.abc import Collection

import numpy as np

from .brain import learning_signal
from .features import MEMORY_SIGNAL_NAMES, message_keys
from .message import Message
from .profile import Evidence, InterestProfile, OnlineReplay, OnlineRows, sigmoid
from .senders import KEY_KINDS, SenderMemory, decay, key_signals
from .vocabulary import Behaviour

BEHAVIOURS = tuple(Behaviour)  # a behaviour array holds indices into this
CODE = {behaviour: index for index, behaviour in enumerate(BEHAVIOURS)}
# Per behaviour, indexed by CODE: what the sender memory and the profile make of it.
_POSITIVE = np.array([b.positive for b in BEHAVIOURS])
_NEGATIVE = np.array([b.negative for b in BEHAVIOURS])
_THROWN_AWAY = np.array([b.thrown_away for b in BEHAVIOURS], dtype=float)
_LABEL, _WEIGHT = np.array([learning_signal(b) or (0, 0.0) for b in BEHAVIOURS], dtype=float).T


def as_new_sender(evidence: Evidence) -> Evidence:
    """The evidence as a reader whose sender memory knows nothing of the sender reads it:
    the memory's signals at zero (a campaign's sender is new to every recipient)."""
    return evidence.without_signals(MEMORY_SIGNAL_NAMES)


def message_rows(profile: InterestProfile, evidence: Evidence) -> OnlineRows:
    """Each message's row for this profile, its sender memory's signals as the part
    that varies from reader to reader."""
    return OnlineRows.of(profile, evidence, MEMORY_SIGNAL_NAMES)


def key_kinds(message: Message) -> frozenset[str]:
    """The kinds of sender-memory key a message has (`senders.KEY_KINDS`): a list only
    with a List-Id, a thread only for a reply."""
    return frozenset(key.split(":", 1)[0] for key in message_keys(message))


def probability(log_odds: np.ndarray) -> np.ndarray:
    """P(wanted) for log-odds, as the profile turns one into the other."""
    return sigmoid(log_odds)


class MemoryReplay:
    """The sender memory of R readers for one sender, as `SenderMemory` keeps it: long
    and short decaying counts of positive and negative engagement, plus the messages
    delivered and thrown away that the policy's `History` reads. Every key of the message
    (address, domain, list, thread) sees the same events, so one set of counts serves
    them all.
    """

    def __init__(self, size: int, half_life: float, trend_half_life: float,
                 start: float) -> None:
        self.half_life, self.trend_half_life = half_life, trend_half_life
        self.long_positive, self.long_negative = np.zeros(size), np.zeros(size)
        self.short_positive, self.short_negative = np.zeros(size), np.zeros(size)
        self.delivered, self.thrown_away = np.zeros(size), np.zeros(size)
        self.updated = start

    def advance(self, now: float) -> None:
        """Decay the counts to `now` (never backwards)."""
        long = decay(now - self.updated, self.half_life)
        short = decay(now - self.updated, self.trend_half_life)
        for name in ("long_positive", "long_negative", "delivered", "thrown_away"):
            setattr(self, name, getattr(self, name) * long)
        self.short_positive = self.short_positive * short
        self.short_negative = self.short_negative * short
        self.updated = now

    def signals(self, kinds: Collection[str]) -> np.ndarray:
        """(R, len(MEMORY_SIGNAL_NAMES)) the memory's signals in that order, for a message
        with keys of these `kinds` (`key_kinds`): the memory knows nothing of the others,
        such as the list of a message without a List-Id."""
        per_key = np.column_stack(key_signals(self.long_positive, self.long_negative,
                                              self.short_positive, self.short_negative))
        unknown = np.zeros_like(per_key)
        return np.hstack([per_key if kind in kinds else unknown for kind in KEY_KINDS])

    def record(self, behaviour: np.ndarray) -> None:
        """Each reader got one more message and did BEHAVIOURS[behaviour[i]] with it
        (`Behaviour.DELIVERED`: nothing, as with mail the gatekeeper deleted)."""
        positive, negative = _POSITIVE[behaviour], _NEGATIVE[behaviour]
        self.delivered += 1.0
        self.long_positive += positive
        self.long_negative += negative
        self.short_positive += positive
        self.short_negative += negative
        self.thrown_away += _THROWN_AWAY[behaviour]


class SenderReplay:
    """What R readers' gatekeepers learn from one sender's message sent again and again:
    each reader's sender memory of the sender, and the online steps their profile takes
    on the message's row.

    `rows` are the message's rows, one per reader (`message_rows(...).take(...)`);
    `memory` any of the readers' `SenderMemory` (for its half-lives); the readers have
    never heard from the sender at `start`.
    """

    def __init__(self, rows: OnlineRows, memory: SenderMemory, start: float,
                 kinds: Collection[str]) -> None:
        self.memory = MemoryReplay(len(rows.log_odds), memory.half_life,
                                   memory.trend_half_life, start)
        self.profile = OnlineReplay(rows)
        self.kinds = frozenset(kinds)

    def advance(self, now: float) -> None:
        """The time of the next message."""
        self.memory.advance(now)

    def log_odds(self, base: np.ndarray) -> np.ndarray:
        """Each reader's log-odds for the message now; `base` is that before any history
        with the sender (`rows.log_odds`, plus the caller's differences between readers)."""
        return self.profile.log_odds(base, self.memory.signals(self.kinds))

    def react(self, behaviour: np.ndarray, log_odds: np.ndarray) -> None:
        """Each reader got the message (scored `log_odds`) and did BEHAVIOURS[behaviour[i]]
        with it. The profile learns from the sender's signals as they were before this
        reaction, as `Brain.lesson` fixes them; then the memory counts it."""
        signals = self.memory.signals(self.kinds)
        self.profile.step(log_odds, signals, _LABEL[behaviour], _WEIGHT[behaviour])
        self.memory.record(behaviour)

    @property
    def delivered(self) -> np.ndarray:
        """(R,) the sender's messages each reader got, decayed as `SenderMemory` counts."""
        return self.memory.delivered

    @property
    def thrown_away(self) -> np.ndarray:
        """(R,) of those, the ones each reader threw away, decayed likewise."""
        return self.memory.thrown_away
