"""The demo run: the whole product on a generated inbox, with no account and no server.

1. Under one folder (never the user's own state): a local Maildir, and a private
   gatekeeper home whose settings hold the reader's interests and the Maildir account
   in active mode, so `GATEKEEPER_HOME=FOLDER/home gatekeeper status` works afterwards.
2. The earlier weeks go into the Maildir as the reader left them (read, answered and
   flagged mail in the inbox, deleted mail in Trash, phishing in Junk, their own mail in
   Sent), and the real `training.train` learns from them.
3. The later weeks arrive a day at a time. Each evening the daemon's own `Watch` decides
   the day's mail (moving held mail to the held folder, deleted mail to Trash), the
   reader reacts in their mail client, and the next wake-up learns from what they did.
"""

from __future__ import annotations

import random
import shutil
import tempfile
import time
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path

from ..core import vocabulary
from ..core.brain import Brain
from ..core.embed import Embedder
from ..core.policy import HOLD, PASS
from ..core.vocabulary import Mode
from ..errors import InputError
from ..mail.account import Account
from ..mail.config import AccountConfig, Paths, Settings, default_config_text, parse_settings
from ..mail.config import set_mode, set_statements
from ..mail.daemon import Watch
from ..mail.mailbox import Mailbox, MaildirSettings
from ..mail.onboarding import add_account
from ..mail.store import Reaction, Store
from ..mail.training import SOURCE as TRAINING
from ..mail.training import Progress, TrainingReport, silent, train
from .inbox import CALENDAR_START, DemoInbox, DemoMail, generate_inbox
from .mailclient import INBOX, MailClient, letters_for
from .outcome import DecidedMail, DemoResult, decided_mail
from .persona import DELETE, JUNK, PERSONA, READ_LATER, RESCUE, Behaviour

ACCOUNT = "demo"
HISTORY_DAYS = 21  # the earlier weeks, learned by `train`; the rest arrives day by day
DECIDE_AT = timedelta(hours=21)  # the day's mail is decided in the evening,
LOOK_AT = timedelta(hours=22)  # and what the reader did with it is looked at an hour later
MARKER = ".gatekeeper-demo"  # marks a folder the demo wrote, which a new run may replace
JUNK_FOLDER, SENT_FOLDER, TRASH_FOLDER = "Junk", "Sent", "Trash"  # found by these names


def run_demo(embedder: Embedder, folder: Path | None = None, messages: int = 400,
             seed: int = 1, behaviour: Behaviour = Behaviour(),
             progress: Progress | None = None) -> DemoResult:
    """Generate an inbox of that many messages, learn its earlier weeks, decide the later
    ones day by day."""
    started = time.monotonic()
    progress = progress or silent
    folder = prepare_folder(folder)
    inbox = generate_inbox(messages, seed)
    where = Paths.under(folder / "home")
    settings = write_settings(where, folder / "Mail")
    history_end = CALENDAR_START + timedelta(days=HISTORY_DAYS)
    # The demo's home is its own, so it holds that home's lock as the daemon would.
    account = Account.open(settings.accounts[0], settings, where, embedder, "demo")
    try:
        store, brain = account.store, account.brain
        mailbox = account.mailbox
        reader = SimulatedReader(MailClient(folder / "Mail"), behaviour, seed)
        training = _learn_history(inbox, history_end, mailbox, brain, store, reader, progress)
        _live(inbox, history_end, Watch(mailbox, brain, store, settings.mode), reader, progress)
        account.commit()
        # What the reader did while the gatekeeper ran (the history is train's).
        feedback = [reaction for reaction in store.reactions(ACCOUNT, undone=False)
                    if reaction.source != TRAINING]
        result = DemoResult(
            folder=folder, home=folder / "home", persona=PERSONA,
            history=sum(m.when < history_end for m in inbox.received), sent=len(inbox.sent),
            training=training, decided=_decided(store, feedback, inbox, history_end),
            reactions=Counter(reaction.behaviour for reaction in feedback),
            examples=brain.profile.n_examples_,
            senders_known=sum(key.startswith("address:") for key in brain.memory.stats),
            correspondents=len(brain.memory.correspondents), start=history_end,
            seconds=time.monotonic() - started)
    finally:
        account.close()
    return result


def _decided(store: Store, feedback: list[Reaction], inbox: DemoInbox,
             start: datetime) -> list[DecidedMail]:
    """Every decision the store recorded, with the reader's truth and whether they
    rescued it (from the `feedback` reactions)."""
    by_id = {mail.message_id: mail for mail in inbox.received}
    rescued = {reaction.message_id for reaction in feedback
               if reaction.behaviour == vocabulary.Behaviour.RESCUED}
    return [decided_mail(decision, by_id[decision.message_id], start, rescued)
            for decision in store.decisions(ACCOUNT)]


def prepare_folder(folder: Path | None) -> Path:
    """A folder for the demo: a new temporary one, or `folder` when it is empty, new, or
    holds an earlier demo (whose files are replaced; nothing else is ever removed)."""
    if folder is None:
        folder = Path(tempfile.mkdtemp(prefix="gatekeeper-demo-"))
    elif folder.exists() and any(folder.iterdir()):
        if not (folder / MARKER).exists():
            raise InputError(f"{folder} is not empty and holds no earlier demo; "
                             "give a new or empty folder")
        for name in ("Mail", "home"):
            shutil.rmtree(folder / name, ignore_errors=True)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / MARKER).write_text("written by `gatekeeper demo`; a new demo run replaces it\n")
    return folder


def write_settings(where: Paths, maildir: Path) -> Settings:
    """The private home's settings file: the reader's statements (as `gatekeeper interests
    add` writes them), active mode, and the Maildir account."""
    text = set_mode(default_config_text(), Mode.ACTIVE)
    text = set_statements(text, PERSONA.interests, PERSONA.disinterests)
    text = add_account(text, AccountConfig(ACCOUNT, MaildirSettings(path=str(maildir))))
    where.config.mkdir(parents=True, exist_ok=True)
    where.config_file.write_text(text)
    return parse_settings(text, str(where.config_file))


class SimulatedReader:
    """The reader at the mail client: the behaviour model acting on a mailbox through a
    client with `deliver`, `mark`, `move` and `folder` (the demo's Maildir one; the
    soak test's speaks IMAP)."""

    def __init__(self, client: MailClient, behaviour: Behaviour, seed: int) -> None:
        self.client = client
        self.behaviour = behaviour
        self.seed = seed
        self.read_tomorrow: list[tuple[str, str]] = []  # (Message-ID, flags)
        self.held: dict[str, DemoMail] = {}  # waiting in the held folder, by Message-ID

    def file_past(self, mail: DemoMail) -> None:
        """Deliver an earlier message where the reader left it, with their flags."""
        actions = self.behaviour.on_arrival(mail, self._dice(mail, "arrival"))
        folder = JUNK_FOLDER if JUNK in actions else TRASH_FOLDER if DELETE in actions else INBOX
        self.client.deliver(folder, mail, letters_for(actions))

    def react(self, mail: DemoMail, verdict: str) -> None:
        """The reader's first reaction to a message the gatekeeper just decided."""
        if verdict == HOLD:
            self.held[mail.message_id] = mail
        if verdict != PASS:
            return  # held mail waits for a look at the held folder; Trash is not looked at
        actions = self.behaviour.on_arrival(mail, self._dice(mail, "arrival"))
        if JUNK in actions or DELETE in actions:
            target = JUNK_FOLDER if JUNK in actions else TRASH_FOLDER
            self.client.move(mail.message_id, INBOX, target)
        elif READ_LATER in actions:
            self.read_tomorrow.append((mail.message_id, letters_for(actions)))
        elif actions:
            self.client.mark(INBOX, mail.message_id, letters_for(actions))

    def catch_up(self) -> None:
        """Read what was left for today."""
        for message_id, letters in self.read_tomorrow:
            self.client.mark(INBOX, message_id, letters)
        self.read_tomorrow.clear()

    def review_held(self, held_folder: str, day: int) -> None:
        """A look at the held folder: rescue some wanted mail, delete some of the rest."""
        for message_id, action in self.review_choices(day):
            if action == RESCUE:
                self.client.move(message_id, held_folder, INBOX, letters="S")
            else:
                self.client.move(message_id, held_folder, TRASH_FOLDER)

    def review_choices(self, day: int) -> list[tuple[str, str]]:
        """What the reader decides on a look at the held folder, (Message-ID, RESCUE or
        DELETE) each; those messages are no longer waiting."""
        choices = []
        for message_id, mail in list(self.held.items()):
            action = self.behaviour.on_review(mail, self._dice(mail, f"review on day {day}"))
            if action is not None:
                choices.append((message_id, action))
                del self.held[message_id]
        return choices

    def _dice(self, mail: DemoMail, occasion: str) -> random.Random:
        """The reader's chances for one message on one occasion: the same for a seed
        whatever order the gatekeeper decides messages in."""
        return random.Random(f"{self.seed}:{occasion}:{mail.message_id}")


def _learn_history(inbox: DemoInbox, history_end: datetime, mailbox: Mailbox,
                   brain: Brain, store: Store, reader: SimulatedReader,
                   progress: Progress) -> TrainingReport:
    """Leave the earlier weeks in the Maildir as the reader did, and train on them."""
    past = [mail for mail in inbox.received if mail.when < history_end]
    progress.stage(f"writing {HISTORY_DAYS // 7} weeks of history", len(past))
    for name in (SENT_FOLDER, JUNK_FOLDER, TRASH_FOLDER):
        reader.client.folder(name)  # before gatekeeper looks for them by name
    for mail in inbox.sent:
        if mail.when < history_end:
            reader.client.deliver(SENT_FOLDER, mail, "S")
    for mail in past:
        reader.file_past(mail)
        progress.advance(1)
    return train(mailbox, brain, store, days=HISTORY_DAYS + 1, now=history_end.timestamp(),
                 progress=progress)


def _live(inbox: DemoInbox, history_end: datetime, watch: Watch, reader: SimulatedReader,
          progress: Progress) -> None:
    """Deliver the later mail a day at a time: decide, react, learn."""
    new = [mail for mail in inbox.received if mail.when >= history_end]
    progress.stage("deciding new mail day by day, learning from the reader", len(new))
    held_folder = watch.pipeline.folders.held
    by_id = {mail.message_id: mail for mail in new}
    # The daemon starts: mail already in the inbox is history, new mail is what arrives.
    watch.step(history_end.timestamp())
    last_day = max((mail.when for mail in new), default=history_end)
    day, number = history_end, 0
    while day <= last_day:
        tomorrow = day + timedelta(days=1)
        for mail in inbox.sent:
            if day <= mail.when < tomorrow:
                reader.client.deliver(SENT_FOLDER, mail, "S")
        for mail in new:
            if day <= mail.when < tomorrow:
                reader.client.deliver(INBOX, mail)
        # Wake-ups are an hour or more apart, always past learn_every_seconds: each
        # one folds what was learned into the profile, as the daemon would.
        today = watch.step((day + DECIDE_AT).timestamp(), consolidate=True)
        reader.catch_up()
        for decision in today:
            reader.react(by_id[decision.message_id], decision.verdict)
        if reader.behaviour.looks_at_held(number):
            reader.review_held(held_folder, number)
        watch.step((day + LOOK_AT).timestamp(), consolidate=True)
        progress.advance(len(today))
        day, number = tomorrow, number + 1
