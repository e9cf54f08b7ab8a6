"""Acting on a verdict: describe it, or do it, journal first.

An `Action` can say what it would do without doing it (shadow mode and dry runs come
free). `intend` writes the intent to the journal, `perform` acts, then the caller
confirms; `reconcile` finishes intents a crash left open by looking the message up by
Message-ID, so each message is acted on exactly once; `undo` moves a message back to where it was before gatekeeper
moved it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from ..core.message import parse
from ..core.vocabulary import Mode, VerdictAction
from ..errors import FolderMissingError, MailboxError
from .mailbox import Folders, Mailbox, MessageRef
from .store import DONE, FAILED, INTENT, UNDONE, JournalEntry, Store

PASS, HOLD, DELETE = VerdictAction.PASS, VerdictAction.HOLD, VerdictAction.DELETE

logger = logging.getLogger(__name__)

KEYWORDS: dict[str, str] = {PASS: "$GkPassed", HOLD: "$GkHeld", DELETE: "$GkDelete"}
SHADOW, TAG, ACTIVE = Mode.SHADOW, Mode.TAG, Mode.ACTIVE
UNDOABLE = (HOLD, DELETE)  # journal kinds that moved a message away from where it was


@dataclass(frozen=True)
class Action:
    """What to do with one message in one mode."""

    verdict: str  # pass, hold or delete
    mode: str  # shadow, tag or active
    account: str
    folder: str
    ref: MessageRef
    message_id: str
    target: str  # the folder it moves to in active mode ("" when it stays)
    content_hash: str = ""  # with the Message-ID, which message it is

    @classmethod
    def for_verdict(cls, verdict: str, mode: str, account: str, folder: str, ref: MessageRef,
                    message_id: str, folders: Folders, content_hash: str = "") -> Action:
        targets: dict[str, str] = {HOLD: folders.held, DELETE: folders.trash}
        target = targets.get(verdict, "")
        return cls(verdict, mode, account, folder, ref, message_id, target, content_hash)

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
                                    self.target or self.folder, self.content_hash)

    def perform(self, mailbox: Mailbox) -> MessageRef | None:
        """Do it; the message's ref in the target folder when it moved and the server said."""
        if self.mode == TAG:
            mailbox.tag(self.folder, self.ref, KEYWORDS[self.verdict])
        elif self.moves:
            return mailbox.move(self.folder, self.ref, self.target)
        return None


def reconcile(mailbox: Mailbox, store: Store) -> int:
    """Finish intents left open by a crash; returns how many were settled."""
    settled = 0
    in_flight = store.moves_in_flight(mailbox.account)
    for entry in store.journal(mailbox.account, state=INTENT):
        if entry.id in in_flight:
            continue  # a command beside us is making this move now
        if entry.kind == "tag" or not entry.message_id:
            store.journal_finish(entry.id, FAILED, "not confirmed; left as it was")
        elif (moved := mailbox.find(entry.target, entry.message_id,
                                    entry.content_hash)) is not None:
            store.journal_finish(entry.id, DONE, "found in target after restart", moved)
        else:
            ref = mailbox.find(entry.source, entry.message_id, entry.content_hash)
            if ref is None:
                store.journal_finish(entry.id, FAILED, "message no longer in source")
            else:
                store.journal_finish(entry.id, *_move_after_restart(mailbox, entry, ref))
        settled += 1
    return settled


def _move_after_restart(mailbox: Mailbox, entry: JournalEntry,
                        ref: MessageRef) -> tuple[str, str, MessageRef | None]:
    """(state, detail, ref in the target) of finishing a move a crash interrupted; a
    target folder that is gone now leaves the message where it was."""
    try:
        moved = mailbox.move(entry.source, ref, entry.target)
    except FolderMissingError as error:
        logger.warning("%s: %s; left in %s", entry.account, error, entry.source)
        return FAILED, f"{entry.target} is gone; left in {entry.source}", None
    return DONE, "moved after restart", moved


def undo(mailbox: Mailbox, store: Store, entry: JournalEntry) -> bool:
    """Put the message `entry` moved back where it was before that move, whatever
    happened to it since (held, then deleted in review: one call, one move back), and
    take back what review learned from it since; False when it cannot be found.

    The restore is journalled, and the message's tracked place updated, before it moves:
    the observer sees a move that is under way, not the reader's, and learns nothing.
    """
    if entry.state != DONE or entry.kind not in UNDOABLE:
        raise MailboxError(f"journal entry {entry.id} is {entry.state} {entry.kind}; "
                           "only completed moves can be undone")
    moves = store.moves_of(entry)
    found = locate(mailbox, store, moves[-1] if moves else entry)
    if found is None:
        return False
    folder, ref = found
    with store.transaction():
        restore = store.journal_intent(entry.account, entry.message_id, "restore", folder,
                                       entry.source, entry.content_hash)
        if entry.message_id:
            store.update_tracked(entry.account, entry.message_id, folder=entry.source,
                                 ref=MessageRef(""))
    moved = mailbox.move(folder, ref, entry.source) if folder != entry.source else ref
    with store.transaction():
        store.journal_finish(restore, DONE, target_ref=moved)
        for move in moves:
            if move.kind in UNDOABLE:
                store.journal_finish(move.id, UNDONE, f"undone by entry {restore}")
        store.undo_feedback_of(entry.account, entry.message_id, "review",
                               since=entry.created_at - 1.0)
    return True


def undo_each(mailbox: Mailbox, store: Store, entries: list[JournalEntry]):
    """Undo many moves: each message once, from its earliest move among `entries`, so it
    goes back where it was before all of them, whatever order they come in. Yields
    (entry, restored?) per message."""
    first: dict[tuple[str, str], JournalEntry] = {}
    for entry in sorted(entries, key=lambda e: e.id):
        first.setdefault((entry.message_id, entry.content_hash), entry)
    for entry in first.values():
        yield entry, undo(mailbox, store, entry)


def locate(mailbox: Mailbox, store: Store,
           last: JournalEntry) -> tuple[str, MessageRef] | None:
    """(folder, ref) of the message journal entry `last` moved last, where it is now:
    where it was last seen, else where that move put it. A message without a Message-ID
    is found by the ref the move gave it, when its content there is still the same."""
    tracked = store.where_tracked(last.account, last.message_id) if last.message_id else None
    places = [tracked.folder] if tracked is not None and tracked.folder else []
    for folder in dict.fromkeys([*places, last.target]):
        ref = mailbox.find(folder, last.message_id, last.content_hash)
        if ref is not None:
            return folder, ref
    if last.target_ref and last.content_hash:
        for item in mailbox.fetch(last.target, [last.target_ref]):
            if parse(item.raw).content_hash == last.content_hash:
                return last.target, item.ref
    return None
