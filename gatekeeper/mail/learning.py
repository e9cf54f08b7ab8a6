"""The learning loop's rule: the store's reactions are the truth, a brain is a checkpoint.

Whoever sees the reader do something (the daemon's observer, `gatekeeper review`,
`gatekeeper train`) records the reaction with its lesson in the store. A brain then
catches up: it counts the decisions after its watermark, learns the reactions after it,
and forgets those the reader took back since. The same call serves a daemon learning
what a command recorded beside it, a daemon replaying what a crash cut off, and a
checkpoint that cannot be read any more, relearned from nothing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from ..core.brain import Applied, Brain
from .store import Store

logger = logging.getLogger(__name__)

# More lessons than this at once (a `train`, a daemon back after a while) are learned by
# one refit over every example rather than an online step each: a refit is the profile's
# best estimate, and steps taken one by one would only approach it.
ONLINE_LIMIT = 20
TRAINING = "train"  # the source of reactions `gatekeeper train` records: a history, so
# always learned by a refit, however few of them a stage of training brings


@dataclass(frozen=True)
class CaughtUp:
    """What one catch-up did."""

    arrivals: int = 0  # decisions counted in the sender memory
    learned: int = 0  # reactions learned
    forgotten: int = 0  # reactions taken back

    def __bool__(self) -> bool:
        return bool(self.arrivals or self.learned or self.forgotten)


def catch_up(brain: Brain, store: Store, account: str) -> CaughtUp:
    """Bring `brain` up to what the store holds for `account`."""
    if brain.applied is None:  # a legacy brain: it holds whatever the store holds now
        brain.applied = Applied(store.last_arrival(account), store.last_reaction(account))
        logger.info("%s: the saved brain predates the store's lessons; learning from "
                    "reactions after #%d", account, brain.applied.reactions)
    applied = brain.applied
    arrivals = store.arrivals_after(account, applied.decisions)
    for arrival in arrivals:
        brain.count_arrival(arrival.keys, arrival.held, arrival.at)
        applied.decisions = arrival.row
    forgotten = _forget_taken_back(brain, store, account)
    pending = store.reactions(account, after=applied.reactions)
    live = [(r.id, r.lesson) for r in pending if not r.undone and r.lesson is not None]
    # A brain that starts from nothing (a new one, or a checkpoint relearned) is fitted,
    # and so are a training's lessons, however few: they are a history, not a reaction.
    online = len(live) <= ONLINE_LIMIT and applied.reactions > 0 and \
        all(r.source != TRAINING for r in pending)
    for reaction, lesson in live:
        brain.apply(lesson, reaction, step=online)
    if live and not online:
        brain.profile.consolidate(now=max(lesson.at for _, lesson in live))
    # Reactions read already undone were never learned, so there is nothing to take back.
    applied.forgotten |= {r.id for r in pending if r.undone or r.lesson is None}
    if pending:
        applied.reactions = pending[-1].id
    return CaughtUp(len(arrivals), len(live), forgotten)


def _forget_taken_back(brain: Brain, store: Store, account: str) -> int:
    applied = brain.watermark
    taken_back = [r for r in store.reactions(account, up_to=applied.reactions, undone=True)
                  if r.id not in applied.forgotten]
    brain.forget([(r.id, r.lesson) for r in taken_back if r.lesson is not None])
    applied.forgotten |= {r.id for r in taken_back}
    return len(taken_back)
