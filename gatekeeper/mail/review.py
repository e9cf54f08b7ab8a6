"""Reviewing held mail: what is waiting, and passing or deleting it with learning.

A held message is known by its decision's ID (the same ID `gatekeeper status` lists
beside its subject and `gatekeeper explain` takes). Passing moves it back where it came from and teaches
"rescued"; deleting moves it to Trash (journaled, so `undo` can bring it back) and teaches
"deleted_from_held". Either way the move is journalled and the tracked location updated
before it happens, and the reaction is recorded with its lesson and marked learned, so
the observer never counts the same move a second time; the brain learns it by catching
up with the store, here or in the running daemon.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from ..core.brain import Brain
from ..core.message import Message, parse
from ..core.vocabulary import Behaviour, VerdictAction
from ..errors import InputError
from .actions import undo
from .feedback import record_reaction
from .learning import catch_up
from .mailbox import Mailbox, MessageRef
from .store import DONE, JournalEntry, Store


@dataclass(frozen=True)
class HeldItem:
    """One held message as the review shows it."""

    id: int  # the decision's ID
    message_id: str
    sender: str
    subject: str
    probability: float
    reasons: list[dict]
    held_at: float


def held_items(store: Store, account: str) -> list[HeldItem]:
    """Messages gatekeeper held that are still where it put them, oldest first (from the
    store alone: listing them needs no connection to the server)."""
    items = []
    for entry in store.waiting_holds(account):
        decision = store.decision_for(account, entry.message_id, entry.content_hash or None)
        if decision is not None:
            items.append(HeldItem(decision.id, entry.message_id, decision.sender,
                                  decision.subject, decision.probability, decision.reasons,
                                  entry.created_at))
    return items


class Reviewer:
    """Passes or deletes held messages of one account, learning from each choice."""

    def __init__(self, mailbox: Mailbox, brain: Brain, store: Store) -> None:
        self.mailbox = mailbox
        self.brain = brain
        self.store = store
        self.folders = mailbox.folders()

    def _entry(self, item_id: int) -> JournalEntry:
        """The hold of the decision `item_id`."""
        decision = self.store.decision(item_id)
        entry = self.store.hold_of(decision) if decision is not None else None
        if entry is None or entry.account != self.mailbox.account:
            raise InputError(f"{item_id} is not a held message of {self.mailbox.account}; "
                             "see `gatekeeper review --list`")
        return entry

    def _locate(self, entry: JournalEntry) -> tuple[MessageRef, Message] | None:
        """The held message's ref and contents, None when it is gone."""
        ref = self.mailbox.find(entry.target, entry.message_id, entry.content_hash)
        fetched = self.mailbox.fetch(entry.target, [ref]) if ref is not None else []
        return (ref, parse(fetched[0].raw)) if fetched and ref is not None else None

    def message(self, item_id: int) -> Message | None:
        """The held message itself (for reading it in full), None when it is gone."""
        found = self._locate(self._entry(item_id))
        return found[1] if found else None

    def release(self, item_id: int, now: float | None = None) -> bool:
        """Pass: back to where it was held from; learns "rescued". False when not found."""
        entry = self._entry(item_id)
        found = self._locate(entry)
        if found is None or not undo(self.mailbox, self.store, entry):
            return False
        self._learn(found[1], entry.message_id, Behaviour.RESCUED, now)
        return True

    def discard(self, item_id: int, now: float | None = None) -> bool:
        """Delete: to Trash (journaled, undoable); learns "deleted_from_held"."""
        entry = self._entry(item_id)
        found = self._locate(entry)
        if found is None:
            return False
        ref, message = found
        trash = self.folders.trash
        with self.store.transaction():
            intent = self.store.journal_intent(entry.account, entry.message_id, VerdictAction.DELETE,
                                               entry.target, trash, entry.content_hash)
            self.store.update_tracked(entry.account, entry.message_id, folder=trash,
                                      ref=MessageRef(""))
        moved_to = self.mailbox.move(entry.target, ref, trash)
        self.store.journal_finish(intent, DONE, f"deleted in review of entry {entry.id}",
                                  moved_to)
        self._learn(message, entry.message_id, Behaviour.DELETED_FROM_HELD, now)
        return True

    def _learn(self, message: Message, message_id: str, behaviour: str,
               now: float | None) -> None:
        now = time.time() if now is None else now
        record_reaction(self.brain, self.store, self.mailbox.account, message, message_id,
                        behaviour, "review", now)
        catch_up(self.brain, self.store, self.mailbox.account)
