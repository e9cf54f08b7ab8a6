"""One place opens an account: its store, its brain caught up with the store, its mailbox.

The CLI's commands, the daemon and the demo all open accounts here, and close them here,
so each follows the same rule for learned state (`gatekeeper.mail.learning`): what the reader
does is recorded in the store first; the brain's checkpoint is written only by whoever
holds the home's lock (`gatekeeper.mail.homelock`), and never over a newer one. A command
that learns while the daemon runs leaves the checkpoint to the daemon and waits until
the daemon has learned what it recorded.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass

from ..core.brain import Brain, Lists
from ..core.embed import Embedder
from ..errors import ProfileFormatError
from .config import AccountConfig, Paths, Settings
from .homelock import DAEMON, HomeLock
from .learning import catch_up
from .mailbox import Mailbox, open_mailbox
from .store import Store

logger = logging.getLogger(__name__)

DAEMON_CATCH_UP_SECONDS = 15.0  # how long a command waits for the daemon to learn


def load_brain(account: str, settings: Settings, paths: Paths, store: Store,
               embedder: Embedder) -> Brain:
    """An account's brain: its checkpoint (relearned from the store's reactions when it
    cannot be used), the allow and block lists, the settings file's statements (they
    belong to the file: `gatekeeper interests` edits them), caught up with the store."""
    lists = Lists(store.list_entries("allow"), store.list_entries("block"))
    try:
        brain = Brain.load(paths.profile_dir(account), embedder, settings.policy, lists)
    except ProfileFormatError as error:
        logger.warning("%s: %s; relearning it from the %d reactions in the store", account,
                       error, len(store.reactions(account, undone=False)))
        brain = Brain(embedder, settings=settings.policy, lists=lists)
    brain.set_interests(settings.interests, settings.disinterests)
    catch_up(brain, store, account)
    return brain


@dataclass(frozen=True)
class Committed:
    """Who made a session's learning part of the brain's checkpoint."""

    by: str  # "this command", "the daemon (pid N)", or "" when it is still to come
    pending: int = 0  # reactions the daemon had not learned yet when we stopped waiting


class Account:
    """An open account: settings, store, brain and, on first use, its mailbox."""

    def __init__(self, config: AccountConfig, settings: Settings, paths: Paths, store: Store,
                 brain: Brain, lock: HomeLock, role: str) -> None:
        self.config = config
        self.settings = settings
        self.paths = paths
        self.store = store
        self.brain = brain
        self.lock = lock
        self.role = role
        self._mailbox: Mailbox | None = None
        # The watermark of the checkpoint this brain was loaded from (before it caught up
        # with the store): a checkpoint on disk with another one was saved by someone else.
        on_disk = Brain.saved_applied(paths.profile_dir(config.name))
        self._loaded = on_disk.to_dict() if on_disk else None
        self._first_reaction = store.last_reaction(config.name) + 1

    def recorded(self) -> bool:
        """Whether reactions were recorded for this account since it was opened."""
        return self.store.last_reaction(self.name) >= self._first_reaction

    @classmethod
    def open(cls, config: AccountConfig, settings: Settings, paths: Paths, embedder: Embedder,
             role: str, lock: HomeLock | None = None) -> Account:
        """Open `config`'s account for `role` (DAEMON or a command's name), with the home's
        lock when the caller holds it already (the daemon). The account owns its store
        connection (one per thread: SQLite's rule) and closes it."""
        store = Store(paths.database)
        brain = load_brain(config.name, settings, paths, store, embedder)
        return cls(config, settings, paths, store, brain, lock or HomeLock(paths.lock_file), role)

    @property
    def name(self) -> str:
        return self.config.name

    @property
    def mailbox(self) -> Mailbox:
        if self._mailbox is None:
            self._mailbox = open_mailbox(self.config)
        return self._mailbox

    def catch_up(self):
        """Learn what the store holds beyond the brain (recorded by anyone)."""
        return catch_up(self.brain, self.store, self.name)

    def save(self) -> None:
        """Write the brain's checkpoint: only while holding the home's lock."""
        if not self.lock.held:
            raise RuntimeError("the brain's checkpoint is written only under the home's lock")
        folder = self.paths.profile_dir(self.name)
        on_disk = Brain.saved_applied(folder)
        if on_disk is not None and on_disk.to_dict() != self._loaded:
            # Someone saved since we loaded: learn on top of theirs, never over it.
            self.brain = load_brain(self.name, self.settings, self.paths, self.store,
                                    self.brain.embedder)
        self.catch_up()
        self.brain.save(folder)
        self._loaded = self.brain.watermark.to_dict()

    def commit(self, wait: bool = True) -> Committed:
        """Make what this session recorded part of the checkpoint: write it, or, while a
        daemon holds the home, leave it to the daemon (waiting a while for it to learn it
        when `wait`)."""
        if self.lock.held or self.lock.acquire(self.role):
            try:
                self.save()
            finally:
                if self.role != DAEMON:
                    self.lock.release()
            return Committed("this command")
        holder = self.lock.holder()
        if holder is None or holder.role != DAEMON:
            return Committed("", self._unlearned())
        return self._wait_for_daemon(holder.pid, DAEMON_CATCH_UP_SECONDS if wait else 0.0)

    def _wait_for_daemon(self, pid: int, seconds: float) -> Committed:
        deadline = time.monotonic() + seconds
        while self._unlearned() and time.monotonic() < deadline:
            time.sleep(0.2)
        return Committed(f"the daemon (pid {pid})", self._unlearned())

    def _unlearned(self) -> int:
        """Reactions recorded after those the running daemon says it has learned."""
        try:
            status = json.loads(self.paths.status_file.read_text())
            learned = status["accounts"][self.name]["learned_up_to"]
        except (OSError, ValueError, KeyError, TypeError):
            learned = 0
        return len(self.store.reactions(self.name, after=learned, undone=False))

    def close(self) -> None:
        if self._mailbox is not None:
            self._mailbox.close()
            self._mailbox = None
        self.store.close()
