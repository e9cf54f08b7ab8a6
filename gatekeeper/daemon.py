"""The long-running gatekeeper: watch each account, decide new mail, learn, recover.

One thread per account. Errors are sorted: bad credentials or a bad folder or setting
stop that account and say why (no retry storm); a dropped connection is cleaned up and
retried with capped exponential back-off and jitter, then catches up on what arrived.
SIGTERM and Ctrl-C take the same clean path: the current step finishes, the profile is
saved, and the process exits within about two seconds. State for `gatekeeper status`
goes to a JSON file beside the database.
"""

from __future__ import annotations

import json
import logging
import os
import random
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from .brain import Brain, Lists
from .config import AccountConfig, Paths, Settings
from .embed import Embedder, OnnxEmbedder
from .errors import ConfigError, ConnectionLostError, GatekeeperError
from .feedback import Observer
from .mailbox import Mailbox, open_mailbox
from .pipeline import Decision, Pipeline
from .store import Store, storage_failure

logger = logging.getLogger(__name__)


def load_brain(account: str, settings: Settings, paths: Paths, store: Store,
               embedder: Embedder) -> Brain:
    """An account's brain as saved, with the allow and block lists and the settings
    file's statements (they belong to the file: `gatekeeper interests` edits them)."""
    lists = Lists(store.list_entries("allow"), store.list_entries("block"))
    brain = Brain.load(paths.profile_dir(account), embedder, settings.policy, lists)
    brain.set_interests(settings.interests, settings.disinterests)
    return brain


def backoff_delays(base: float = 1.0, cap: float = 300.0, rng: random.Random | None = None):
    """Exponential back-off with full jitter: 0..1 s, 0..2 s, 0..4 s, ... capped."""
    rng = rng or random.Random()
    attempt = 0
    while True:
        yield rng.uniform(0.5, 1.0) * min(cap, base * 2**attempt)
        attempt += 1


class Watch:
    """What the daemon does for one account each time it wakes: decide the new mail, learn
    what the reader did since the last look, and, when asked, fold that into the profile.
    The daemon runs it on every wake-up; the demo runs it on simulated days."""

    def __init__(self, mailbox: Mailbox, brain: Brain, store: Store, mode: str,
                 start_at_existing: bool = False) -> None:
        self.brain = brain
        self.pipeline = Pipeline(mailbox, brain, store, mode, start_at_existing=start_at_existing)
        self.observer = Observer(mailbox, brain, store)

    def step(self, now: float, stop: Callable[[], bool] = lambda: False,
             consolidate: bool = False) -> list[Decision]:
        """One wake-up at `now`; returns what was decided."""
        decisions = self.pipeline.run_once(now, stop=stop)
        self.observer.observe(now)
        if consolidate:
            self.brain.profile.consolidate(now=now)
        return decisions


@dataclass
class AccountStatus:
    """What `gatekeeper status` shows for one account."""

    state: str = "starting"  # starting, watching, reconnecting, stopped, failed
    error: str = ""
    last_sync: float = 0.0
    decided: dict[str, int] = field(default_factory=dict)


class AccountWorker:
    """Watches one account until told to stop."""

    def __init__(self, config: AccountConfig, settings: Settings, paths: Paths,
                 embedder: Embedder, stop: threading.Event, start_at_existing: bool = False,
                 connect=open_mailbox) -> None:
        self.config = config
        self.settings = settings
        self.paths = paths
        self.embedder = embedder
        self.stop = stop
        self.start_at_existing = start_at_existing
        self.connect = connect
        self.status = AccountStatus()
        self.last_learned = time.monotonic()
        self.delays = backoff_delays()  # started again by every healthy pass

    def run(self) -> None:
        store = Store(self.paths.database)
        brain = load_brain(self.config.name, self.settings, self.paths, store, self.embedder)
        try:
            while not self.stop.is_set():
                try:
                    self._watch(self.connect(self.config), brain, store)
                except ConnectionLostError as error:
                    self._retry_after(next(self.delays), str(error))
                except Exception as error:
                    # Credentials, folders, settings, a full disk: ask the user.
                    reason = error if isinstance(error, GatekeeperError) else \
                        storage_failure(error, self.paths.database)
                    if reason is not None:
                        self.status.state, self.status.error = "failed", str(reason)
                        logger.error("%s: stopped: %s", self.config.name, reason)
                        return
                    # A bug must not stop the watch for good.
                    logger.exception("%s: unexpected error", self.config.name)
                    self._retry_after(next(self.delays), f"unexpected error: {error!r}")
        finally:
            self._save(brain)
            store.close()
            if self.status.state != "failed":
                self.status.state = "stopped"

    def _save(self, brain: Brain) -> None:
        folder = self.paths.profile_dir(self.config.name)
        try:
            brain.save(folder)
        except OSError as error:  # the copy saved before stays whole
            logger.error("%s: the profile was not saved: %s", self.config.name,
                         storage_failure(error, folder) or error)

    def _retry_after(self, delay: float, why: str) -> None:
        self.status.state, self.status.error = "reconnecting", why
        logger.warning("%s: %s; retrying in %.1f s", self.config.name, why, delay)
        self.stop.wait(delay)

    def _watch(self, mailbox: Mailbox, brain: Brain, store: Store) -> None:
        watch = Watch(mailbox, brain, store, self.settings.mode, self.start_at_existing)
        try:
            watch.pipeline.recover()
            while not self.stop.is_set():
                self._step(watch, brain)
                # Watching once the first pass has fixed where new mail starts; a later
                # drop is a new outage, its back-off starts again at 0.5-1 s.
                self.status.state, self.status.error = "watching", ""
                self.delays = backoff_delays()
                mailbox.wait(watch.pipeline.folders.inbox, timeout=540, stop=self.stop.is_set)
        finally:
            mailbox.close()

    def _step(self, watch: Watch, brain: Brain) -> None:
        now = time.time()
        learn = time.monotonic() - self.last_learned >= self.settings.learn_every_seconds
        for decision in watch.step(now, stop=self.stop.is_set, consolidate=learn):
            self.status.decided[decision.verdict] = self.status.decided.get(decision.verdict, 0) + 1
        self.status.last_sync = now
        if learn:
            brain.save(self.paths.profile_dir(self.config.name))
            self.last_learned = time.monotonic()


class Daemon:
    """All accounts, the signal handling and the status file."""

    def __init__(self, settings: Settings, paths: Paths, embedder: Embedder | None = None,
                 start_at_existing: bool = False, connect=open_mailbox) -> None:
        if not settings.accounts:
            raise ConfigError(f"no accounts configured: add an [[accounts]] block to {paths.config_file} "
                              "(the commented default config shows every setting)")
        self.settings = settings
        self.paths = paths
        self.stop = threading.Event()
        self._status_problem = ""  # why the status file could not be written, said once
        embedder = embedder or OnnxEmbedder(max_length=settings.max_length,
                                            threads=settings.threads)
        self.workers = [AccountWorker(a, settings, paths, embedder, self.stop,
                                      start_at_existing, connect) for a in settings.accounts]

    def install_signal_handlers(self) -> None:
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: self.stop.set())

    def run(self) -> int:
        """Run until stopped; exit code 0, or 1 when an account failed."""
        # Create and migrate the database once, before the workers open it side by side.
        Store(self.paths.database).close()
        threads = [threading.Thread(target=w.run, name=w.config.name, daemon=True)
                   for w in self.workers]
        for thread in threads:
            thread.start()
        while any(t.is_alive() for t in threads):
            self.write_status()
            if all(w.status.state == "failed" for w in self.workers):
                break
            self.stop.wait(1.0)
        self.stop.set()
        for thread in threads:
            thread.join(timeout=10)
        self.write_status(running=False)
        return 1 if any(w.status.state == "failed" for w in self.workers) else 0

    def write_status(self, running: bool = True) -> None:
        status = {"pid": os.getpid(), "running": running, "updated": time.time(),
                  "mode": self.settings.mode,
                  "accounts": {w.config.name: w.status.__dict__ for w in self.workers}}
        path: Path = self.paths.status_file
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            temporary = path.with_suffix(".tmp")
            temporary.write_text(json.dumps(status, indent=2))
            temporary.replace(path)
        except OSError as error:  # a full disk: the accounts stop and say so themselves
            problem = str(storage_failure(error, path) or error)
            if problem != self._status_problem:
                logger.warning("status not written: %s", problem)
            self._status_problem = problem
