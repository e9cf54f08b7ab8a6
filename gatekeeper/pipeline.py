"""One pass over an account's inbox: fetch -> parse -> embed -> score -> decide -> act -> record.

Collaborators are injected (a `Mailbox`, a `Brain`, a `Store`), so the same pass runs on
IMAP, on a Maildir, and in tests. Each message is decided exactly once per (account,
folder, UIDVALIDITY, UID): the decision and the journal intent are written in one
transaction before anything is touched, and the folder's last UID moves on only after.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass

from .actions import Action, reconcile
from .brain import Assessment, Brain
from .features import message_keys
from .learning import catch_up
from .mailbox import Fetched, Folders, Mailbox
from .message import parse
from .store import DONE, FolderState, Store

logger = logging.getLogger(__name__)

# Messages fetched, embedded and decided together when a backlog waits. 64 rather than 16:
# about a fifth of them need the model, and the embedder runs those side by side on
# every core, which 3 texts of 16 often leave idle. A small gain on 2 cores: 0% and 6% more
# messages/s in two alternating `scripts/bench_pipeline.py --batch-size 16` / 64 runs.
BATCH_SIZE = 64


@dataclass(frozen=True)
class Decision:
    """What a pass did with one message."""

    uid: int
    message_id: str
    sender: str
    subject: str
    verdict: str
    probability: float
    action: str  # Action.describe()
    probe: bool


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
        """Settle actions a crash left half done; call after every (re)connect."""
        return reconcile(self.mailbox, self.store)

    def sync_state(self) -> FolderState:
        """The inbox's sync state, started or re-started when UIDVALIDITY changed."""
        inbox = self.folders.inbox
        status = self.mailbox.status(inbox)
        saved = self.store.folder_state(self.account, inbox)
        if saved is not None and saved.uidvalidity == status.uidvalidity:
            return saved
        if saved is not None:
            logger.warning("%s: UIDVALIDITY of %s changed; re-syncing by Message-ID",
                           self.account, inbox)
            start = 0
        else:
            start = 0 if self.start_at_existing else status.uidnext - 1
        state = FolderState(status.uidvalidity, max(start, 0), status.highest_modseq)
        self.store.save_folder_state(self.account, inbox, state)
        return state

    def run_once(self, now: float | None = None,
                 stop: Callable[[], bool] = lambda: False) -> list[Decision]:
        """Decide every message that arrived since the last pass (or, when `stop` says
        so, those of the batches done so far: the rest waits for the next pass)."""
        decisions: list[Decision] = []
        while not stop():
            state = self.sync_state()
            fetched = self.mailbox.fetch_new(self.folders.inbox, state.last_uid, self.batch_size)
            if not fetched:
                return decisions
            decisions += self._decide_batch(fetched, state, time.time() if now is None else now)
        return decisions

    def _decide_batch(self, fetched: list[Fetched], state: FolderState, now: float) -> list[Decision]:
        messages = [parse(item.raw) for item in fetched]
        already = self.store.decided_message_ids(self.account)
        decisions = []
        for item, assessment in zip(fetched, self.brain.assess(messages, now=now,
                                                               settle_early=True)):
            message_id = assessment.message.message_id
            if message_id and message_id in already:
                logger.info("%s: %s was decided before (re-sync); skipped", self.account, message_id)
            else:
                decisions.append(self._decide_one(item, assessment, state, now))
            state = FolderState(state.uidvalidity, item.uid, state.highest_modseq)
            self.store.save_folder_state(self.account, self.folders.inbox, state)
        catch_up(self.brain, self.store, self.account)  # the sender memory counts the batch
        return decisions

    def _decide_one(self, item: Fetched, assessment: Assessment, state: FolderState,
                    now: float) -> Decision:
        message, verdict = assessment.message, assessment.verdict
        action = Action.for_verdict(verdict.action, self.mode, self.account, self.folders.inbox,
                                    item.uid, message.message_id, self.folders)
        with self.store.transaction():
            recorded = self.store.record_decision(
                self.account, self.folders.inbox, state.uidvalidity, item.uid,
                {"message_id": message.message_id, "content_hash": message.content_hash,
                 "sender": message.from_address, "subject": message.subject[:200], "at": now,
                 "action": verdict.action, "probability": assessment.probability,
                 "mode": self.mode, "probe": verdict.probe, "queue": verdict.queue,
                 "reasons": [asdict(r) for r in verdict.reasons],
                 "sender_keys": message_keys(message)})
            entry = action.intend(self.store) if recorded else None
            if recorded and message.message_id:
                where = action.target if action.moves else self.folders.inbox
                self.store.track(self.account, message.message_id, where,
                                 0 if action.moves else item.uid, item.flags, now, verdict.action)
        if recorded and entry is not None:
            action.perform(self.mailbox)
            self.store.journal_finish(entry, DONE)
        logger.info("%s: uid %s %s (p=%.2f): %s", self.account, item.uid, verdict.action,
                    assessment.probability, action.describe())
        return Decision(item.uid, message.message_id, message.from_address, message.subject,
                        verdict.action, assessment.probability, action.describe(), verdict.probe)


def reasons_of(row) -> list[dict]:
    """The reasons stored with a decision row."""
    return json.loads(row["reasons"])
