"""One pass over an account's inbox: fetch -> parse -> embed -> score -> decide -> act -> record.

Collaborators are injected (a `Mailbox`, a `Brain`, a `Store`), so the same pass runs on
IMAP, on a Maildir, and in tests. Each message is decided exactly once per (account,
folder, ref): the decision and the journal intent are written in one transaction before
anything is touched, and the folder's cursor moves on only after.

One bad message holds up no other: a message that cannot be read is passed (left where
it is, unlearned from) and recorded with its error; a move that fails leaves it in place
with the error noted. Neither is tried again. Only a lost connection or a store that
cannot write stops the pass (`isolated`).
"""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass

from ..core.brain import Assessment, Brain
from ..core.features import message_keys
from ..core.message import Message, parse
from ..core.policy import PASS
from ..errors import ConnectionLostError, FolderMissingError, StorageError
from .actions import Action, reconcile
from .learning import catch_up
from .mailbox import Fetched, Folders, Mailbox, MessageRef, NewMail
from .store import DONE, FAILED, FolderState, Store

logger = logging.getLogger(__name__)

# Messages fetched, embedded and decided together when a backlog waits. 64 rather than 16:
# about a fifth of them need the model, and the embedder runs those side by side on
# every core, which 3 texts of 16 often leave idle. A small gain on 2 cores: 0% and 6% more
# messages/s in two alternating `scripts/bench_pipeline.py --batch-size 16` / 64 runs.
BATCH_SIZE = 64
ERROR_CHARS = 200  # of an error's text kept: enough to tell what failed, never a body
UNREAD_PROBABILITY = 0.5  # what a message passed unread is recorded with: no idea


def isolated(error: Exception) -> bool:
    """Whether `error` concerns one message (decide it safely and go on) rather than the
    connection or the database as a whole (full, read-only, locked, corrupt), which stop
    the pass for the daemon to sort out. A row the database refuses is the message's."""
    if isinstance(error, sqlite3.DatabaseError):
        return isinstance(error, sqlite3.IntegrityError)
    return not isinstance(error, (ConnectionLostError, StorageError))


def failure(stage: str, error: Exception) -> str:
    """An error as recorded and logged: the stage, the kind, the start of its text."""
    text = " ".join(str(error).split())[:ERROR_CHARS]
    return f"{stage} failed: {type(error).__name__}" + (f": {text}" if text else "")


@dataclass(frozen=True)
class Decision:
    """What a pass did with one message."""

    ref: MessageRef
    message_id: str
    sender: str
    subject: str
    verdict: str
    probability: float
    action: str  # Action.describe()
    probe: bool
    error: str = ""  # what went wrong: then passed unread, or left in place


class Pipeline:
    """Decides new mail in one account's inbox."""

    def __init__(self, mailbox: Mailbox, brain: Brain, store: Store, mode: str,
                 batch_size: int = BATCH_SIZE, start_at_existing: bool = False) -> None:
        self.mailbox = mailbox
        self.brain = brain
        self.store = store
        self.mode = mode
        self.batch_size = batch_size
        # A new install decides only mail that arrives from now on (history is for
        # `gatekeeper train`), unless asked to go through what is already there.
        self.start_at_existing = start_at_existing
        self._folders: Folders | None = None

    @property
    def account(self) -> str:
        return self.mailbox.account

    @property
    def folders(self) -> Folders:
        if self._folders is None:
            self._folders = self.mailbox.folders()
        return self._folders

    def recover(self) -> int:
        """Settle actions a crash left half done; call after every (re)connect. The folders
        come first: a held folder the reader removed meanwhile is created again."""
        self._folders = self.mailbox.folders(refresh=True)
        return reconcile(self.mailbox, self.store)

    def sync_state(self) -> FolderState:
        """The inbox's sync state; a new install's starts at the end of the inbox (or, to
        go through what is there already, at its start)."""
        inbox = self.folders.inbox
        saved = self.store.folder_state(self.account, inbox)
        if saved is not None:
            return saved
        state = FolderState("" if self.start_at_existing else self.mailbox.cursor_at_end(inbox))
        self.store.save_folder_state(self.account, inbox, state)
        return state

    def _restarted(self, state: FolderState) -> FolderState:
        """The sync state once the mailbox could not go on from the saved cursor (IMAP: a
        new UIDVALIDITY) and gives the folder from its start. Messages decided before
        are known by what they are; the rest that arrived before the last full look are
        history, as on a first install (the reader's read and answered mail is no new mail)."""
        logger.warning("%s: the mailbox cannot go on from where %s was read (IMAP: its "
                       "UIDVALIDITY changed); re-syncing: decided mail is recognised, mail "
                       "older than the last look is history", self.account, self.folders.inbox)
        return FolderState(state.cursor, self.store.synced_at(self.account, self.folders.inbox))

    def run_once(self, now: float | None = None,
                 stop: Callable[[], bool] = lambda: False) -> list[Decision]:
        """Decide every message that arrived since the last pass (or, when `stop` says
        so, those of the batches done so far: the rest waits for the next pass)."""
        decisions: list[Decision] = []
        inbox = self.folders.inbox
        while not stop():
            state = self.sync_state()
            looked_at = time.time()
            new = self.mailbox.fetch_new(inbox, state.cursor, self.batch_size)
            if new.restarted:
                state = self._restarted(state)
            if not new.messages:
                if new.cursor != state.cursor or new.restarted:
                    self.store.save_folder_state(self.account, inbox,
                                                 FolderState(new.cursor, state.history_before))
                self.store.mark_synced(self.account, inbox, looked_at)
                return decisions
            decisions += self._decide_batch(new, state, time.time() if now is None else now)
        return decisions

    def _decide_batch(self, new: NewMail, state: FolderState, now: float) -> list[Decision]:
        fetched = new.messages
        messages = [parse(item.raw) for item in fetched]  # never raises
        already = self.store.decided_identities(self.account)
        decisions = []
        for item, message, assessed in zip(fetched, messages, self._assess(messages, now)):
            # What `run -v` logs of a message's headers: these two, never more (README).
            logger.debug("%s: message %s is <%s> from %s", self.account, item.ref,
                         message.message_id, message.from_address)
            if (message.message_id, message.content_hash) in already:
                logger.info("%s: message %s was decided before (re-sync); skipped",
                            self.account, item.ref)
            elif item.arrived and item.arrived < state.history_before:
                logger.debug("%s: message %s arrived before the re-sync's last look: history",
                             self.account, item.ref)
            elif not isinstance(assessed, Assessment):
                decisions.append(self._pass_unread(item, message, failure("reading", assessed),
                                                   now))
            else:
                decisions.append(self._decide_safely(item, assessed, now))
            state = FolderState(item.cursor, state.history_before)
            self.store.save_folder_state(self.account, self.folders.inbox, state)
        catch_up(self.brain, self.store, self.account)  # the sender memory counts the batch
        return decisions

    def _assess(self, messages: list[Message], now: float) -> list[Assessment | Exception]:
        """Each message's assessment, or the error that stopped it: a batch that fails is
        assessed again a message at a time."""
        try:
            return [*self.brain.assess(messages, now=now, settle_early=True)]
        except Exception as error:
            if not isolated(error):
                raise
            logger.warning("%s: a batch of %d failed (%s); reading them one at a time",
                           self.account, len(messages), failure("reading", error))
        return [self._assess_one(message, now) for message in messages]

    def _assess_one(self, message: Message, now: float) -> Assessment | Exception:
        try:
            return self.brain.assess([message], now=now, settle_early=True)[0]
        except Exception as error:
            if not isolated(error):
                raise
            return error

    def _decide_safely(self, item: Fetched, assessment: Assessment, now: float) -> Decision:
        """`_decide_one`, or, when recording it fails for this message alone, the safe rule."""
        try:
            return self._decide_one(item, assessment, now)
        except Exception as error:
            if not isolated(error):
                raise
            return self._pass_unread(item, assessment.message, failure("deciding", error), now)

    def _row(self, message: Message, now: float, **decision) -> dict:
        return {"message_id": message.message_id, "content_hash": message.content_hash,
                "sender": message.from_address, "subject": message.subject[:200], "at": now,
                "mode": self.mode, "sender_keys": message_keys(message), **decision}

    def _decide_one(self, item: Fetched, assessment: Assessment, now: float) -> Decision:
        message, verdict = assessment.message, assessment.verdict
        action = Action.for_verdict(verdict.action, self.mode, self.account, self.folders.inbox,
                                    item.ref, message.message_id, self.folders,
                                    message.content_hash)
        with self.store.transaction():
            recorded = self.store.record_decision(
                self.account, self.folders.inbox, item.ref,
                self._row(message, now, action=verdict.action,
                          probability=assessment.probability, probe=verdict.probe,
                          queue=verdict.queue, reasons=[asdict(r) for r in verdict.reasons],
                          evidence=assessment.evidence()))
            entry = action.intend(self.store) if recorded else None
            if recorded and message.message_id:
                where = action.target if action.moves else self.folders.inbox
                self.store.track(self.account, message.message_id, where,
                                 MessageRef("") if action.moves else item.ref, item.flags, now,
                                 verdict.action)
        error = ""
        if recorded and entry is not None:
            error = self._act(action, entry)
        logger.info("%s: message %s %s (p=%.2f): %s", self.account, item.ref, verdict.action,
                    assessment.probability, action.describe())
        return Decision(item.ref, message.message_id, message.from_address, message.subject,
                        verdict.action, assessment.probability, action.describe(), verdict.probe,
                        error)

    def _act(self, action: Action, entry: int) -> str:
        """Do what was decided and confirm it; "" when done, else the error, noted with the
        decision while the message stays where it was."""
        try:
            moved_to = self._perform(action, entry)
        except Exception as error:
            if not isolated(error):
                raise  # the intent stays open: `reconcile` settles it after reconnecting
            detail = failure(action.describe(), error)
            logger.warning("%s: message %s: %s; left in %s", self.account, action.ref, detail,
                           action.folder)
            with self.store.transaction():
                self.store.journal_finish(entry, FAILED, detail)
                self.store.record_decision_error(self.account, action.folder, action.ref, detail)
                if action.message_id:  # where the observer will find it: not a rescue
                    self.store.update_tracked(self.account, action.message_id,
                                              folder=action.folder, ref=action.ref)
            return detail
        self.store.journal_finish(entry, DONE, target_ref=moved_to)
        return ""

    def _perform(self, action: Action, entry: int) -> MessageRef | None:
        """Act (the message's ref in the target folder, when it moved and the server said);
        when the target folder is gone (renamed or deleted by the reader), look for the
        folders again, which creates the held folder anew, and act once more."""
        try:
            return action.perform(self.mailbox)
        except FolderMissingError as error:
            logger.warning("%s: %s; looking for the folders again", self.account, error)
            self._folders = self.mailbox.folders(refresh=True)
            again = Action.for_verdict(action.verdict, action.mode, action.account,
                                       action.folder, action.ref, action.message_id,
                                       self._folders, action.content_hash)
            if again.target != action.target:
                self.store.journal_retarget(entry, again.target)
                if action.message_id:
                    self.store.update_tracked(self.account, action.message_id,
                                              folder=again.target)
            return again.perform(self.mailbox)

    def _pass_unread(self, item: Fetched, message: Message, error: str,
                     now: float) -> Decision:
        """The safe rule for a message that could not be read: pass it (leave it where it
        is, untouched and unlearned from), with its error recorded for `status`."""
        reason = {"code": "unreadable", "text": f"passed unread: {error}"}
        self.store.record_decision(
            self.account, self.folders.inbox, item.ref,
            self._row(message, now, action=PASS, probability=UNREAD_PROBABILITY,
                      reasons=[reason], error=error))
        logger.warning("%s: message %s passed unread: %s", self.account, item.ref, error)
        return Decision(item.ref, message.message_id, message.from_address, message.subject,
                        PASS, UNREAD_PROBABILITY, "leave in place (unread)", False, error)
