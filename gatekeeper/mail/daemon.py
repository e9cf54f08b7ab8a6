"""The long-running gatekeeper: watch each account, decide new mail, learn, recover.

One thread per account. Errors are sorted: bad credentials or a bad folder or setting
stop that account and say why (no retry storm); a dropped connection is cleaned up and
retried with capped exponential back-off and jitter, then catches up on what arrived.
SIGTERM and Ctrl-C take the same clean path: the current step finishes (or, after a few
seconds, is left to the store's journal and lessons, which survive anything), and the
process exits.

One daemon per home: it holds the home's lock (`gatekeeper.mail.homelock`) while it runs, and
is the only writer of its accounts' brain checkpoints. What commands do beside it reaches
it within seconds: a change to the settings file (mode, interests, costs) is applied, and
a change to the store (review, undo, train, allow and block) wakes the accounts, which
learn it by catching up with the store. State for `gatekeeper status` goes to a JSON file
beside the database, at most once a second.
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

from .. import __version__
from ..core.brain import Brain, Lists
from ..core.embed import Embedder, embedder_for
from ..errors import ConfigError, ConnectionLostError, GatekeeperError, HomeLockedError
from .account import Account
from .config import AccountConfig, Paths, Settings, load_settings, settings_file_state
from .feedback import Observer
from .homelock import DAEMON, HomeLock
from .mailbox import Mailbox, open_mailbox
from .pipeline import Decision, Pipeline
from .store import Store, storage_failure

logger = logging.getLogger(__name__)

STOP_GRACE_SECONDS = 4.0  # after SIGTERM, how long the accounts may take to finish a step
STATUS_EVERY_SECONDS = 1.0


def backoff_delays(base: float = 1.0, cap: float = 300.0, rng: random.Random | None = None):
    """Exponential back-off with full jitter: 0..1 s, 0..2 s, 0..4 s, ... capped."""
    rng = rng or random.Random()
    attempt = 0
    while True:
        yield rng.uniform(0.5, 1.0) * min(cap, base * 2**attempt)
        attempt += 1


class Watch:
    """What the daemon does for one account each time it wakes: settle moves a crash cut
    short, decide the new mail, learn what the reader did since the last look, and, when
    asked, fold that into the profile. The daemon runs it on every wake-up; the demo runs
    it on simulated days."""

    def __init__(self, mailbox: Mailbox, brain: Brain, store: Store, mode: str,
                 start_at_existing: bool = False) -> None:
        self.brain = brain
        self.pipeline = Pipeline(mailbox, brain, store, mode, start_at_existing=start_at_existing)
        self.observer = Observer(mailbox, brain, store)

    def step(self, now: float, stop: Callable[[], bool] = lambda: False,
             consolidate: bool = False) -> list[Decision]:
        """One wake-up at `now`; returns what was decided."""
        self.pipeline.recover()
        decisions = self.pipeline.run_once(now, stop=stop)
        if not stop():
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
    mode: str = ""
    warning: str = ""  # what the user should know though nothing failed (a thin profile)
    settings_applied: list | None = None  # the settings file's state it has applied
    learned_up_to: int = 0  # the last reaction in the store its brain has learned
    examples: int = 0  # examples its profile has learned from


class AccountWorker:
    """Watches one account until told to stop."""

    def __init__(self, config: AccountConfig, settings: Settings, paths: Paths,
                 embedder: Embedder, stop: threading.Event, lock: HomeLock,
                 start_at_existing: bool = False, connect=open_mailbox) -> None:
        self.config = config
        self.settings = settings
        self.paths = paths
        self.embedder = embedder
        self.stop = stop
        self.lock = lock
        self.start_at_existing = start_at_existing
        self.connect = connect
        self.status = AccountStatus(mode=settings.mode,
                                    settings_applied=settings_file_state(paths.config_file))
        self.nudged = threading.Event()  # the store or the settings changed: look now
        self._new_settings: tuple[Settings, list | None] | None = None
        self.last_learned = time.monotonic()
        self._refitted_at = -1  # the reaction watermark of the last refit
        self.delays = backoff_delays()  # started again by every healthy pass
        self._connections = 0

    def update(self, settings: Settings, file_state: list | None) -> None:
        """New settings from the file (in `file_state`); applied by the account's own
        thread at its next wake."""
        self._new_settings = settings, file_state
        self.nudged.set()

    def run(self) -> None:
        try:
            account = Account.open(self.config, self.settings, self.paths, self.embedder,
                                   DAEMON, self.lock)
        except Exception as error:
            self._stopped_by(error)
            return
        self._report(account.brain)
        self._warn_if_thin(account)
        try:
            while not self.stop.is_set():
                try:
                    self._watch(self.connect(self.config), account)
                except ConnectionLostError as error:
                    self._retry_after(next(self.delays), self._plain(error))
                except Exception as error:
                    if self._stopped_by(error):
                        return
                    # A bug must not stop the watch for good.
                    logger.exception("%s: unexpected error", self.config.name)
                    self._retry_after(next(self.delays), f"unexpected error: {error!r}")
        finally:
            self._save(account)
            account.close()
            if self.status.state != "failed":
                self.status.state = "stopped"
            logger.info("%s: stopped; the profile holds %d examples", self.config.name,
                        self.status.examples)

    def _plain(self, error: BaseException) -> str:
        """An error's words without the account's name in front (the log line and
        `status` name the account already)."""
        text = str(error)
        return text.removeprefix(f"{self.config.name}: ")

    def _warn_if_thin(self, account: Account) -> None:
        """Say so, in the log and in `status`, while the profile has too little to go on:
        then it holds whatever it is not sure of, which is most mail."""
        examples, needed = account.brain.profile.n_examples_, self.settings.policy.min_examples_to_delete
        statements = len(self.settings.interests) + len(self.settings.disinterests)
        if examples >= needed:
            self.status.warning = ""
            return
        self.status.warning = (
            f"the profile has learned from {examples} examples and {statements} interest "
            "statements: it holds what it is unsure of and deletes nothing until it has "
            f"{needed}; run `gatekeeper train` (and `gatekeeper interests add`)")
        logger.warning("%s: %s", self.config.name, self.status.warning)
    def _stopped_by(self, error: Exception) -> bool:
        """Stop the account when `error` needs the user (credentials, folders, settings,
        a full disk or read-only database); whether it did. Anything else is re-raised
        when the account could not even be opened."""
        reason = error if isinstance(error, GatekeeperError) else \
            storage_failure(error, self.paths.database)
        if reason is None:
            return False
        self.status.state, self.status.error = "failed", self._plain(reason)
        logger.error("%s: stopped: %s", self.config.name, self.status.error)
        return True

    def _save(self, account: Account) -> None:
        """A clean stop saves a refit; a disk that cannot take it keeps the last checkpoint
        whole (and the store keeps every reaction)."""
        try:
            self._refit(account.brain)
            account.save()
        except OSError as error:
            logger.error("%s: the profile was not saved: %s", self.config.name,
                         storage_failure(error, self.paths.profile_dir(self.config.name)) or error)

    def _retry_after(self, delay: float, why: str) -> None:
        self.status.state, self.status.error = "reconnecting", why
        logger.warning("%s: %s; retrying in %.1f s", self.config.name, why, delay)
        self.stop.wait(delay)

    def _watch(self, mailbox: Mailbox, account: Account) -> None:
        watch = Watch(mailbox, account.brain, account.store, self.settings.mode,
                      self.start_at_existing)
        try:
            self._say_watching(watch, account)
            while not self.stop.is_set():
                self._apply_changes(watch, account)
                self._step(watch, account)
                # Watching once the first pass has fixed where new mail starts; a later
                # drop is a new outage, its back-off starts again at 0.5-1 s.
                self.status.state, self.status.error = "watching", ""
                self.delays = backoff_delays()
                mailbox.wait(watch.pipeline.folders.inbox, timeout=540,
                             stop=lambda: self.stop.is_set() or self.nudged.is_set())
        finally:
            mailbox.close()

    def _say_watching(self, watch: Watch, account: Account) -> None:
        """One line when the account is connected: where, what, in which mode, knowing what."""
        self._connections += 1
        folders, config = watch.pipeline.folders, self.config
        where = config.backend.where()
        logger.info("%s: %s %s; watching %s, held mail to %s, deleted to %s; mode %s; the "
                    "profile holds %d examples and %d interest statements", config.name,
                    "reconnected to" if self._connections > 1 else "connected to", where,
                    folders.inbox, folders.held, folders.trash, self.settings.mode,
                    account.brain.profile.n_examples_,
                    len(self.settings.interests) + len(self.settings.disinterests))

    def _apply_changes(self, watch: Watch, account: Account) -> None:
        """What commands changed beside the daemon: settings, lists, reactions."""
        self.nudged.clear()
        change, self._new_settings = self._new_settings, None
        if change is not None:
            self._apply_settings(change[0], watch, account.brain)
            self.status.settings_applied = change[1]
        store = account.store
        account.brain.lists = Lists(store.list_entries("allow"), store.list_entries("block"))
        caught = account.catch_up()
        if caught.learned or caught.forgotten:
            logger.info("%s: learned %d reactions and took back %d recorded beside the daemon",
                        self.config.name, caught.learned, caught.forgotten)
            self._warn_if_thin(account)

    def _apply_settings(self, settings: Settings, watch: Watch, brain: Brain) -> None:
        old, self.settings = self.settings, settings
        if settings.mode != old.mode:
            logger.info("%s: mode %s -> %s", self.config.name, old.mode, settings.mode)
            watch.pipeline.mode = settings.mode
        if (settings.interests, settings.disinterests) != (old.interests, old.disinterests):
            logger.info("%s: interests changed; %d interests, %d disinterests",
                        self.config.name, len(settings.interests), len(settings.disinterests))
            brain.set_interests(settings.interests, settings.disinterests)
        brain.settings = settings.policy

    def _step(self, watch: Watch, account: Account) -> None:
        now = time.time()
        learn = time.monotonic() - self.last_learned >= self.settings.learn_every_seconds
        for decision in watch.step(now, stop=self.stop.is_set, consolidate=learn):
            self.status.decided[decision.verdict] = self.status.decided.get(decision.verdict, 0) + 1
        self.status.last_sync = now
        if learn:
            self._refitted_at = account.brain.watermark.reactions
            account.save()
            self.last_learned = time.monotonic()
        self._report(account.brain)

    def _refit(self, brain: Brain) -> None:
        """Fold the online steps since the last refit into a refit of the profile."""
        if brain.watermark.reactions != self._refitted_at and brain.profile.n_examples_:
            brain.profile.consolidate()
            self._refitted_at = brain.watermark.reactions

    def _report(self, brain: Brain) -> None:
        self.status.mode = self.settings.mode
        self.status.learned_up_to = brain.applied.reactions if brain.applied else 0
        self.status.examples = brain.profile.n_examples_


class Daemon:
    """All accounts, the signal handling, the settings file and the status file."""

    def __init__(self, settings: Settings, paths: Paths, embedder: Embedder | None = None,
                 start_at_existing: bool = False, connect=open_mailbox) -> None:
        if not settings.accounts:
            raise ConfigError(f"no accounts configured: add an [[accounts]] block to {paths.config_file} "
                              "(the commented default config shows every setting)")
        self.settings = settings
        self.paths = paths
        self.stop = threading.Event()
        self.lock = HomeLock(paths.lock_file)
        embedder = embedder or embedder_for(settings)
        self.workers = [AccountWorker(a, settings, paths, embedder, self.stop, self.lock,
                                      start_at_existing, connect) for a in settings.accounts]
        self._status_written = 0.0
        self._status_problem = ""  # why the status file could not be written, said once
        self._config_seen = settings_file_state(paths.config_file)

    def install_signal_handlers(self) -> None:
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: self.stop.set())

    def run(self) -> int:
        """Run until stopped; exit code 0, or 1 when an account failed. HomeLockedError
        when another daemon already runs for this home."""
        try:
            acquired = self.lock.acquire(DAEMON)
        except OSError as error:  # a home it cannot write: say so, as for the database
            raise storage_failure(error, self.paths.lock_file) or error
        if not acquired:
            holder = self.lock.holder()
            since = time.strftime("%Y-%m-%d %H:%M", time.localtime(holder.since)) if holder else "?"
            raise HomeLockedError(
                f"gatekeeper is already running for this home (pid {holder.pid if holder else '?'}, "
                f"{holder.role if holder else 'unknown'} since {since}); stop it first, or set "
                "GATEKEEPER_HOME to run another")
        try:
            return self._run()
        finally:
            self.lock.release()

    def _run(self) -> int:
        # Create and migrate the database once, before the workers open it side by side.
        watcher = Store(self.paths.database)
        changes = watcher.data_version()
        threads = [threading.Thread(target=w.run, name=w.config.name, daemon=True)
                   for w in self.workers]
        logger.info("gatekeeper %s watching %d account(s) (pid %d, mode %s); stop it with "
                    "Ctrl-C or SIGTERM", __version__, len(threads), os.getpid(),
                    self.settings.mode)
        for thread in threads:
            thread.start()
        try:
            while not self.stop.is_set() and any(t.is_alive() for t in threads):
                self.write_status()
                if all(w.status.state == "failed" for w in self.workers):
                    break
                changes = self._notice_changes(watcher, changes)
                self.stop.wait(0.5)
        finally:
            watcher.close()
        self.stop.set()
        deadline = time.monotonic() + STOP_GRACE_SECONDS
        for thread in threads:
            thread.join(timeout=max(0.0, deadline - time.monotonic()))
            if thread.is_alive():
                logger.warning("%s: still busy after %.0f s; stopping without its last save "
                               "(the next start learns what the store holds beyond the saved "
                               "profile)", thread.name, STOP_GRACE_SECONDS)
        self.write_status(running=False)
        failed = [w.config.name for w in self.workers if w.status.state == "failed"]
        logger.info("gatekeeper stopped" + (f"; failed: {', '.join(failed)}" if failed else ""))
        return 1 if failed else 0

    def _notice_changes(self, watcher: Store, seen: int) -> int:
        """Wake the accounts when another process wrote to the store, and hand them the
        settings file when it changed; the store's new data version."""
        version = watcher.data_version()
        if version != seen:
            for worker in self.workers:
                worker.nudged.set()
        state = settings_file_state(self.paths.config_file)
        if state != self._config_seen:
            self._config_seen = state
            try:
                settings = load_settings(self.paths.config_file)
            except ConfigError as error:
                logger.error("the settings file changed but cannot be used (%s); keeping the "
                             "settings in use", error)
            else:
                for worker in self.workers:
                    worker.update(settings, state)
        return version

    def write_status(self, running: bool = True) -> None:
        """The status file for `gatekeeper status`, at most once a second while running."""
        now = time.monotonic()
        if running and now - self._status_written < STATUS_EVERY_SECONDS:
            return
        self._status_written = now
        status = {"pid": os.getpid(), "running": running, "updated": time.time(),
                  "mode": self.workers[0].settings.mode,
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


