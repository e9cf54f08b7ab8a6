"""What the reader did since the last look, turned into learning.

For each decided message the store tracks where it is and its flags. A look compares
that with the server: flags added (read, replied, flagged) and messages gone from where
they were, found again by Message-ID (in Trash: deleted; in Junk: junked; back in the
inbox from Held: rescued; moved into Held by the reader: unwanted). Each behaviour is
recorded once, with its source and its lesson, so it can be undone, and never teaches
the profile to dislike a correspondent; the brain learns it by catching up with the store
(`gatekeeper.mail.learning`). A move the gatekeeper itself is making (review, undo: a journal
intent still open) is not the reader's and is left alone. A message that cannot be found,
fetched, read or learned from is logged and left out; the others are learned from all
the same.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace

from ..core.brain import Brain
from ..core.message import Message, parse
from ..core.vocabulary import Behaviour
from ..errors import FolderMissingError
from .learning import catch_up
from .mailbox import SEEN, Folders, Mailbox, MessageRef
from .pipeline import failure, isolated
from .store import Store, Tracked

logger = logging.getLogger(__name__)

READ_SOON_SECONDS = 6 * 3600
GONE = ""  # the tracked folder of a message that is nowhere to be found any more
IGNORED_AFTER_SECONDS = 3 * 86400


@dataclass(frozen=True)
class FeedbackEvent:
    """One behaviour of the reader, about one message."""

    message_id: str
    behaviour: str  # a `Behaviour`
    folder: str  # where the message is now
    ref: MessageRef  # the message there
    source: str  # how it was observed, e.g. "flags INBOX" or "moved INBOX -> Trash"


def _flag_events(item: Tracked, flags: frozenset[str], now: float, folder: str) -> list[str]:
    behaviours: list[str] = []
    if SEEN in flags and SEEN not in item.flags:
        behaviours.append(Behaviour.READ_SOON if now - item.decided_at < READ_SOON_SECONDS
                          else Behaviour.READ)
    behaviours += [b for b in Behaviour.shown_by(flags) if b.flag not in item.flags]
    return behaviours


def _where_moved(mailbox: Mailbox, folders: Folders,
                 item: Tracked) -> tuple[str, MessageRef] | None:
    candidates = [folders.trash, folders.junk, folders.inbox, folders.held, folders.archive]
    for folder in (f for f in candidates if f and f != item.folder):
        ref = mailbox.find(folder, item.message_id)
        if ref is not None:
            return folder, ref
    return None


def _move_behaviour(item: Tracked, target: str, folders: Folders) -> str | None:
    from_held = item.folder == folders.held
    if target == folders.trash:
        return Behaviour.DELETED_FROM_HELD if from_held else (
            Behaviour.DELETED_UNREAD if SEEN not in item.flags else None)
    if target == folders.junk:
        return Behaviour.JUNKED
    if target == folders.inbox and from_held:
        return Behaviour.RESCUED
    if target == folders.held:
        return Behaviour.MOVED_TO_HELD
    if target == folders.archive:
        return Behaviour.READ
    return None


def record_reaction(brain: Brain, store: Store, account: str, message: Message,
                    message_id: str, behaviour: str, source: str, now: float) -> int:
    """Record what the reader did with a message and what it teaches (as `brain` sees it
    now), marked learned for the message so the same behaviour never counts twice; the
    reaction's id. Brains learn it by catching up with the store."""
    lesson = brain.lesson(message, behaviour, now)
    with store.transaction():
        reaction = store.record_reaction(account, message_id, behaviour, source, now, lesson)
        store.add_learned(account, message_id, behaviour)
    return reaction


class Observer:
    """Looks at the inbox and the held folder and learns from what changed."""

    def __init__(self, mailbox: Mailbox, brain: Brain, store: Store) -> None:
        self.mailbox = mailbox
        self.brain = brain
        self.store = store
        # The mailbox's cursor per folder at the last look: only flags changed since then
        # are fetched (where the backend can tell). The first look after a start
        # compares every flag.
        self._cursors: dict[str, str] = {}

    def observe(self, now: float) -> list[FeedbackEvent]:
        folders = self.mailbox.folders()
        events: list[FeedbackEvent] = []
        for folder in (folders.inbox, folders.held):
            try:
                events += self._observe_folder(folders, folder, now)
            except FolderMissingError as error:  # renamed or deleted: its mail is gone from view
                logger.warning("%s: %s; looking for the folders again", self.mailbox.account,
                               error)
                folders = self.mailbox.folders(refresh=True)
        for event in events:
            self._learn(event, now)
        catch_up(self.brain, self.store, self.mailbox.account)
        return events

    def _observe_folder(self, folders: Folders, folder: str, now: float) -> list[FeedbackEvent]:
        moving = self.store.moving(self.mailbox.account)
        tracked = [t for t in self.store.tracked(self.mailbox.account, folder)
                   if t.message_id not in moving]
        if not tracked:
            return []
        present = self.mailbox.refs(folder)
        here = set(present)
        known = [item.ref for item in tracked if item.ref in here]
        claimed = set(known)  # membership: a daemon tracks thousands, on every wake-up
        tracked = self._with_refs(tracked, folder, present, claimed)
        arrived = [t.ref for t in tracked if t.ref in here and t.ref not in claimed]
        flags, cursor = self.mailbox.changes(folder, known, self._cursors.get(folder, ""))
        flags |= self.mailbox.flags(folder, arrived)  # moved here: compare every flag
        self._cursors[folder] = cursor
        events = []
        for item in tracked:
            if item.ref not in here:
                events += self._moved(folders, item)
            elif item.ref in flags:
                events += self._changed_flags(item, flags[item.ref], now)
        return events

    def _with_refs(self, tracked: list[Tracked], folder: str, present: list[MessageRef],
                   claimed: set[MessageRef]) -> list[Tracked]:
        """Tracked messages with their refs here. Those not known yet (moved in by
        gatekeeper or the reader) are looked up by Message-ID among the messages no
        tracked one `claimed`, in one FETCH rather than a SEARCH each."""
        here = set(present)
        missing = {item.message_id for item in tracked if item.ref not in here}
        unclaimed = [ref for ref in present if ref not in claimed]
        if not missing or not unclaimed:
            return tracked
        ref_of = {mid: ref for ref, mid in self.mailbox.message_ids(folder, unclaimed).items()
                  if mid in missing}
        updated = []
        with self.store.transaction():
            for item in tracked:
                ref = ref_of.get(item.message_id)
                if ref is not None and ref != item.ref:
                    self.store.update_tracked(self.mailbox.account, item.message_id, ref=ref)
                    item = replace(item, ref=ref)
                updated.append(item)
        return updated

    def _changed_flags(self, item: Tracked, flags: frozenset[str], now: float) -> list[FeedbackEvent]:
        if flags == item.flags:
            return []
        self.store.update_tracked(self.mailbox.account, item.message_id, flags=flags)
        return [FeedbackEvent(item.message_id, b, item.folder, item.ref, f"flags {item.folder}")
                for b in _flag_events(item, flags, now, item.folder) if b not in item.learned]

    def _moved(self, folders: Folders, item: Tracked) -> list[FeedbackEvent]:
        try:
            found = _where_moved(self.mailbox, folders, item)
        except Exception as error:
            if not isolated(error):
                raise
            logger.warning("%s: %s is not followed any more: %s", self.mailbox.account,
                           item.message_id, failure("finding it", error))
            found = None
        if found is None:  # expunged by the reader or another client: nothing to learn from
            self.store.update_tracked(self.mailbox.account, item.message_id, folder=GONE,
                                      ref=MessageRef(""))
            return []
        target, ref = found
        self.store.update_tracked(self.mailbox.account, item.message_id, folder=target, ref=ref)
        behaviour = _move_behaviour(item, target, folders)
        if behaviour is None or behaviour in item.learned:
            return []
        return [FeedbackEvent(item.message_id, behaviour, target, ref,
                              f"moved {item.folder} -> {target}")]

    def _learn(self, event: FeedbackEvent, now: float) -> None:
        account = self.mailbox.account
        try:
            fetched = self.mailbox.fetch(event.folder, [event.ref])
            if not fetched:
                return
            record_reaction(self.brain, self.store, account, parse(fetched[0].raw),
                            event.message_id, event.behaviour, event.source, now)
        except Exception as error:
            if not isolated(error):
                raise
            logger.warning("%s: did not learn %s from %s (%s): %s", account, event.behaviour,
                           event.source, event.message_id, failure("learning", error))
            return
        logger.info("%s: the reader %s (%s)", account, event.behaviour, event.source)
