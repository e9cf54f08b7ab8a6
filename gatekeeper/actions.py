"""Acting on a verdict: describe it, or do it, journal first.

An `Action` can say what it would do without doing it (shadow mode and dry runs come
free). `apply` writes the intent to the journal, acts, then confirms; `reconcile` finishes
intents a crash left open by looking the message up by Message-ID, so each message is
acted on exactly once; `undo` moves a message back to where it came from.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from .errors import FolderMissingError, MailboxError
from .mailbox import Folders, Mailbox
from .store import DONE, FAILED, INTENT, UNDONE, JournalEntry, Store

logger = logging.getLogger(__name__)

KEYWORDS = {"pass": "$GkPassed", "hold": "$GkHeld", "delete": "$GkDelete"}
SHADOW, TAG, ACTIVE = "shadow", "tag", "active"


@dataclass(frozen=True)
class Action:
    """What to do with one message in one mode."""

    verdict: str  # pass, hold or delete
    mode: str  # shadow, tag or active
    account: str
    folder: str
    uid: int
    message_id: str
    target: str  # the folder it moves to in active mode ("" when it stays)

    @classmethod
    def for_verdict(cls, verdict: str, mode: str, account: str, folder: str, uid: int,
                    message_id: str, folders: Folders) -> Action:
        target = {"hold": folders.held, "delete": folders.trash}.get(verdict, "")
        return cls(verdict, mode, account, folder, uid, message_id, target)

    @property
    def moves(self) -> bool:
        return self.mode == ACTIVE and bool(self.target)

    def describe(self) -> str:
        if self.mode == SHADOW:
            return f"would {self.verdict} (shadow mode: nothing touched)"
        if self.mode == TAG:
            return f"tag {KEYWORDS[self.verdict]}"
        return f"move to {self.target}" if self.moves else "leave in place"

    def intend(self, store: Store) -> int | None:
        """Journal what is about to happen; None when there is nothing to do."""
        if self.mode == SHADOW or (self.mode == ACTIVE and not self.moves):
            return None
        kind = "tag" if self.mode == TAG else self.verdict
        return store.journal_intent(self.account, self.message_id, kind, self.folder,
                                    self.target or self.folder)

    def perform(self, mailbox: Mailbox) -> None:
        if self.mode == TAG:
            mailbox.tag(self.folder, self.uid, KEYWORDS[self.verdict])
        elif self.moves:
            mailbox.move(self.folder, self.uid, self.target)

    def apply(self, mailbox: Mailbox, store: Store, entry: int | None = None) -> None:
        """Journal the intent (unless given), act, confirm. A failure leaves the intent
        open for `reconcile` to settle after reconnecting."""
        entry = self.intend(store) if entry is None else entry
        if entry is None:
            return
        self.perform(mailbox)
        store.journal_finish(entry, DONE)


def reconcile(mailbox: Mailbox, store: Store) -> int:
    """Finish intents left open by a crash; returns how many were settled."""
    settled = 0
    for entry in store.journal(mailbox.account, state=INTENT):
        if entry.kind == "tag" or not entry.message_id:
            store.journal_finish(entry.id, FAILED, "not confirmed; left as it was")
        elif mailbox.find(entry.target, entry.message_id) is not None:
            store.journal_finish(entry.id, DONE, "found in target after restart")
        else:
            uid = mailbox.find(entry.source, entry.message_id)
            if uid is None:
                store.journal_finish(entry.id, FAILED, "message no longer in source")
            else:
                store.journal_finish(entry.id, *_move_after_restart(mailbox, entry, uid))
        settled += 1
    return settled


def _move_after_restart(mailbox: Mailbox, entry: JournalEntry, uid: int) -> tuple[str, str]:
    """(state, detail) of finishing a move a crash interrupted; a target folder that is
    gone now leaves the message where it was."""
    try:
        mailbox.move(entry.source, uid, entry.target)
    except FolderMissingError as error:
        logger.warning("%s: %s; left in %s", entry.account, error, entry.source)
        return FAILED, f"{entry.target} is gone; left in {entry.source}"
    return DONE, "moved after restart"


def undo(mailbox: Mailbox, store: Store, entry: JournalEntry) -> bool:
    """Move a message back from where an action put it; False when it cannot be found."""
    if entry.state != DONE or entry.kind not in ("hold", "delete"):
        raise MailboxError(f"journal entry {entry.id} is {entry.state} {entry.kind}; "
                           "only completed moves can be undone")
    uid = mailbox.find(entry.target, entry.message_id)
    if uid is None:
        return False
    restore = store.journal_intent(entry.account, entry.message_id, "restore", entry.target,
                                   entry.source)
    mailbox.move(entry.target, uid, entry.source)
    store.journal_finish(restore, DONE)
    store.journal_finish(entry.id, UNDONE, f"undone by entry {restore}")
    # Undoing a choice made in review takes back what review recorded, and puts the
    # message where review (and the observer) will look for it again. A gatekeeper move
    # undone is left for the observer, which learns from it as a rescue.
    if store.undo_feedback_of(entry.account, entry.message_id, "review",
                              since=entry.created_at - 1.0):
        store.update_tracked(entry.account, entry.message_id, folder=entry.source, uid=0)
    return True
