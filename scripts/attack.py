#!/usr/bin/env python3
"""Re-run the kinds of attack of issue 15 and print what they did: every count but the
inputs should be zero. Also the daemon's peak RSS with 50 MB headers in the stream.

    .venv/bin/python scripts/attack.py [--inputs 3000] [--messages 300] [--huge 3]
        [--restarts 3] [--corpus-dir ../shared/corpora] [--json FILE]

1. read: the generated hostile corpus (tests/hostile_mail.py), mutants of real mail
   (../shared/corpora when it is there, else generated mail) and random bytes, straight
   into parse and the real model as the daemon reads them: exceptions, and texts the
   tokenizer could not take.
2. daemon: the real `gatekeeper run` (real model, active mode) against a private Dovecot,
   fed ordinary mail mixed with hostile mail, mutants, random bytes and --huge messages
   with 50 MB headers, while the reader renames and later deletes the held folder and
   the server restarts; then the reader deletes everything left in the inbox unread,
   which the observer must follow by Message-ID. Counts: decided, passed unread with an
   error, lost, left unscored, daemon crashes, hangs, learning missed; the seconds from
   each server restart to watching again; peak RSS (VmHWM).
3. starttls: the same command through a man in the middle that strips STARTTLS.
4. full disk (needs root, to mount a tmpfs): the data folder on 4 MB, filled while the
   daemon runs; then freed and the daemon started again.
Also, with `--parts rss`, only ordinary mail and the --huge messages: the peak RSS, which
`--code DIR` measures for another checkout (the code before the fix, say).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))  # the private Dovecot and the hostile corpus

import dovecot  # noqa: E402
import hostile_mail  # noqa: E402
from bench_daemon import decided_count, sample_mail  # noqa: E402
from reader import PASSWORD, Reader  # noqa: E402

from gatekeeper.testing import build_message  # noqa: E402

HELD = "Gatekeeper/Held"
CHARSETS = (b"utf-7", b"unicode_escape", b"x-no-such-charset", b"utf-16", b"idna", b"rot13")


class Figures(dict):
    """The measurements, each printed as soon as it is taken."""

    def __setitem__(self, name: str, value) -> None:
        super().__setitem__(name, value)
        shown = f"{value:.2f}" if isinstance(value, float) else str(value)
        print(f"{name:>34}: {shown}", flush=True)


# -- inputs ------------------------------------------------------------------------------------
def with_id(raw: bytes, message_id: bytes) -> bytes:
    """`raw` with its Message-ID headers replaced by this one, in front."""
    head, separator, body = raw.partition(b"\n\n")
    kept = re.sub(rb"(?im)^message-id:.*(\r?\n[ \t].*)*\r?\n?", b"", head)
    return b"Message-ID: <" + message_id + b">\n" + kept + separator + body


def mutate(raw: bytes, n: int, rng: random.Random) -> bytes:
    """One of seven hostile changes to real mail; Message-IDs stay unique by `n`."""
    kind = n % 7
    unique = f"mutant-{n}@attack.example".encode()
    if kind == 0:
        data = bytearray(raw)
        for _ in range(rng.randint(1, 30)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        return with_id(bytes(data), unique)
    if kind == 1:
        return with_id(raw[: rng.randrange(len(raw) + 1)], unique)
    if kind == 2:
        charset = rng.choice(CHARSETS)
        changed = re.sub(rb'(?i)charset="?[\w.-]+"?', b"charset=" + charset, raw)
        if changed == raw:
            changed = b"Content-Type: text/plain; charset=" + charset + b"\n" + raw
        return with_id(changed, unique)
    if kind == 3:
        head = raw.partition(b"\n\n")[0]
        head = re.sub(rb"(?im)^content-(type|transfer-encoding):.*\n?", b"", head)
        return with_id(head + b"\nContent-Type: text/plain; charset=utf-7\n\n+2D0- +3gA-", unique)
    if kind == 4:
        return with_id(raw, rng.choice([b"nul\0", b"8bit\x80\xff", b"esc\x1b[2J", b'q"(\\{5}']) + unique)
    if kind == 5:
        trick = rng.choice(hostile_mail.TERMINAL_TRICKS).encode().replace(b"\r", b" ")
        return with_id(re.sub(rb"(?im)^subject:", b"Subject: " + trick + b" ", raw, count=1), unique)
    head, separator, body = raw.partition(b"\n\n")
    return with_id(head + b"\n" + head * 20 + separator + body, unique)


def random_mail(count: int, rng: random.Random) -> list[bytes]:
    return [bytes(rng.randrange(256) for _ in range(rng.randrange(1, 3000))) for _ in range(count)]


def huge_header(n: int, megabytes: int = 50) -> bytes:
    line = b"X-Filler: " + b"a" * 988 + b"\r\n"
    head = build_message(subject=f"Huge header {n}", body="Short body.",
                         message_id=f"<huge-{n}@attack.example>").partition(b"\n\n")
    return head[0] + b"\n" + line * (megabytes * 1000) + b"\n" + head[2]


# -- 1. read ---------------------------------------------------------------------------------
def attack_reading(inputs: list[bytes], figures: Figures) -> None:
    from gatekeeper.core.brain import Brain
    from gatekeeper.core.embed import make_embedder
    from gatekeeper.core.message import parse

    brain = Brain(make_embedder())
    brain.set_interests(["space exploration, rockets", "open source software and Linux"])
    crashes = unencodable = 0
    started = time.monotonic()
    for raw in inputs:
        try:
            message = parse(raw)
            for text in (message.text_for_embedding(), message.text_for_words(), message.subject):
                try:
                    text.encode("utf-8")
                except UnicodeEncodeError:
                    unencodable += 1
            brain.assess([message])  # embeds every message: the tokenizer sees them all
        except Exception as error:  # what the attack looks for
            crashes += 1
            print(f"  read crash: {type(error).__name__}: {str(error)[:100]}", flush=True)
    figures["read_inputs"] = len(inputs)
    figures["read_crashes"] = crashes
    figures["read_texts_unencodable"] = unencodable
    figures["read_seconds"] = time.monotonic() - started


# -- the daemon on a private server --------------------------------------------------------------
CODE: list[str] = []  # --code: run the daemon from another checkout (a before/after figure)


class Trial:
    """A private Dovecot, a gatekeeper home for it (active mode), and the real `gatekeeper
    run` started on it as often as asked; all of it gone afterwards."""

    def __init__(self, prefix: str) -> None:
        self.server = dovecot.new_server({"alice": PASSWORD})
        self.home = Path(tempfile.mkdtemp(prefix=prefix))
        self.configure()
        self.daemons: list[subprocess.Popen] = []
        self.reader: Reader | None = None
        self.mounted: list[Path] = []

    def __enter__(self) -> Trial:
        return self

    def __exit__(self, *exc) -> None:
        for daemon in self.daemons:
            if daemon.poll() is None:
                daemon.kill()
        if self.reader is not None:
            self.reader.close()
        for where in self.mounted:
            subprocess.run(["umount", "-l", str(where)], check=False)
        dovecot.remove_server(self.server)
        shutil.rmtree(self.home, ignore_errors=True)

    def configure(self, **account) -> None:
        settings = {"name": "attack", "host": "127.0.0.1", "port": self.server.imaps_port,
                    "username": "alice", "ca_file": self.server.ca_file,
                    "password_env": "GK_ATTACK_PASSWORD", **account}
        lines = "\n".join(f"{key} = {json.dumps(value)}" for key, value in settings.items())
        (self.home / "config").mkdir(parents=True, exist_ok=True)
        (self.home / "config" / "config.toml").write_text(
            'mode = "active"\ninterests = ["space exploration, rockets", '
            f'"open source software and Linux"]\n[[accounts]]\n{lines}\n')

    def start(self) -> subprocess.Popen:
        env = dict(os.environ, GATEKEEPER_HOME=str(self.home), GK_ATTACK_PASSWORD=PASSWORD)
        if CODE:
            env["PYTHONPATH"] = os.pathsep.join([*CODE, env.get("PYTHONPATH", "")])
        # In the home: `-m` puts the working folder first on the path, ahead of --code.
        self.daemons.append(subprocess.Popen([sys.executable, "-m", "gatekeeper", "run"],
                                             env=env, cwd=self.home, stdout=subprocess.DEVNULL,
                                             stderr=subprocess.DEVNULL))
        return self.daemons[-1]

    def deliver(self, raw: bytes) -> bool:
        """APPEND, in a new session when the server restarted under the old one; False when
        the server refuses the message (Dovecot takes no empty message)."""
        import imaplib

        for _ in range(20):
            try:
                self.reader = self.reader or Reader(self.server)
                self.reader.deliver(raw)
                return True
            except imaplib.IMAP4.abort:
                time.sleep(0.5)
                self.reader = None
            except imaplib.IMAP4.error:
                return False
        raise RuntimeError("cannot deliver to the test server")

    def count(self, sql: str) -> int:
        return (query(self.home, sql) or [(0,)])[0][0]

    def decided(self) -> int:
        return decided_count(self.home / "data" / "gatekeeper.db")

    def state(self) -> str:
        try:
            status = json.loads((self.home / "data" / "status.json").read_text())
            return status["accounts"]["attack"]["state"]
        except (OSError, ValueError, KeyError):
            return ""

    def log(self) -> str:
        return (self.home / "logs" / "gatekeeper.log").read_text(errors="replace")

    def on_server(self) -> int:
        """Messages in every folder of the server."""
        reader = Reader(self.server)
        total = 0
        for flags, _, name in reader.client.list_folders():
            if b"\\Noselect" not in flags and b"\\NonExistent" not in flags:
                reader.client.select_folder(name, readonly=True)
                total += len(reader.client.search("ALL"))
        reader.close()
        return total


def query(home: Path, sql: str) -> list:
    database = home / "data" / "gatekeeper.db"
    if not database.exists():
        return []
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=5) as connection:
        try:
            return connection.execute(sql).fetchall()
        except sqlite3.OperationalError:  # not created yet, or an older schema (--code)
            return []


def wait(condition, timeout: float, poll: float = 0.1) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(poll)
    return True


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


# -- 2. the daemon under attack ------------------------------------------------------------------
def attack_daemon(stream: list[bytes], huge: int, restarts: int, figures: Figures) -> None:
    with Trial("gk-attack-") as trial:
        daemon = trial.start()
        huge_at = {len(stream) * (k + 1) // (huge + 1): k for k in range(huge)}
        events = {len(stream) // 4: "rename", len(stream) // 2: "restart",
                  3 * len(stream) // 4: "delete"}
        reconnects, delivered, refused, deleted_by_reader = [], 0, 0, 0
        wait(lambda: trial.state() == "watching", 120)
        for position, raw in enumerate(stream):
            if position in huge_at:
                delivered += trial.deliver(huge_header(huge_at[position]))
            accepted = trial.deliver(raw)
            delivered, refused = delivered + accepted, refused + (not accepted)
            event = events.get(position)
            if event in ("rename", "delete"):
                wait(lambda: trial.decided() >= delivered, 300)
                wait(lambda: HELD in trial.reader.folders(), 60)  # made again after a rename
                deleted_by_reader += remove_held(trial.reader, event)
            elif event == "restart":
                for n in range(restarts):  # from the server back up to a new message decided
                    wait(lambda: trial.decided() >= delivered, 300)
                    trial.server.restart()
                    up = time.monotonic()
                    trial.reader = None
                    delivered += trial.deliver(build_message(
                        message_id=f"<after-restart-{n}@attack.example>"))
                    wait(lambda: trial.decided() >= delivered, 300, poll=0.02)
                    reconnects.append(time.monotonic() - up)
        hung = not wait(lambda: trial.decided() >= delivered, 900, poll=0.5)
        figures["daemon_messages_delivered"] = delivered
        figures["daemon_messages_the_server_refused"] = refused
        figures["daemon_huge_header_messages"] = huge
        figures["daemon_decided"] = trial.decided()
        figures["daemon_passed_unread_with_error"] = trial.count(
            "SELECT count(*) FROM messages WHERE error != ''")
        figures["daemon_left_unscored"] = delivered - trial.decided()
        figures["daemon_hung"] = int(hung)
        figures["daemon_restart_to_decision_seconds_max"] = max(reconnects, default=0.0)
        figures["daemon_peak_rss_mb"] = peak_rss_mb(daemon.pid)
        delete_the_inbox_unread(trial, figures)
        figures["daemon_alive_until_asked"] = int(daemon.poll() is None)
        daemon.send_signal(signal.SIGTERM)
        figures["daemon_exit_code"] = daemon.wait(timeout=60)
        figures["daemon_unexpected_errors_logged"] = trial.log().count("unexpected error")
        figures["daemon_accounts_stopped"] = trial.log().count(": stopped: ")
        figures["daemon_held_messages_the_reader_deleted"] = deleted_by_reader
        figures["daemon_messages_lost"] = delivered - deleted_by_reader - trial.on_server()


def remove_held(reader: Reader, how: str) -> int:
    """The reader renames or deletes the held folder; returns the messages deleted with it
    (the reader's own loss, not counted as lost)."""
    reader.client.select_folder(HELD, readonly=True)
    deleted = len(reader.client.search("ALL")) if how == "delete" else 0
    reader.client.select_folder("INBOX")
    if how == "rename":
        reader.client.rename_folder(HELD, "Held by another name")
    else:
        reader.client.delete_folder(HELD)
    return deleted


def delete_the_inbox_unread(trial: Trial, figures: Figures) -> None:
    """The reader deletes what is left in the inbox, unread: learned by Message-ID."""
    expected = trial.count("SELECT count(*) FROM tracked WHERE folder = 'INBOX'")
    trial.reader = trial.reader or Reader(trial.server)
    trial.reader.client.select_folder("INBOX")
    trial.reader.client.move(trial.reader.client.search("ALL"), "Trash")
    learned = "SELECT count(*) FROM feedback WHERE behaviour = 'deleted_unread'"
    wait(lambda: trial.count(learned) >= expected, 300, poll=0.5)
    figures["observer_deletions_to_learn"] = expected
    figures["observer_deletions_missed"] = expected - trial.count(learned)


def measure_rss(ordinary: list[bytes], huge: int, figures: Figures) -> None:
    """Peak RSS of the daemon deciding ordinary mail with `huge` 50 MB headers among it."""
    with Trial("gk-attack-rss-") as trial:
        daemon = trial.start()
        wait(lambda: trial.state() == "watching", 120)
        every, delivered = max(len(ordinary) // (huge + 1), 1), 0
        for n, raw in enumerate(ordinary):
            if n % every == every - 1 and n // every < huge:
                delivered += trial.deliver(huge_header(n))
            delivered += trial.deliver(raw)
        figures["rss_messages"] = delivered
        figures["rss_all_decided"] = int(wait(lambda: trial.decided() >= delivered, 900, 0.5))
        figures["rss_peak_mb"] = peak_rss_mb(daemon.pid)
        daemon.send_signal(signal.SIGTERM)
        daemon.wait(timeout=60)


# -- 3. a server that strips STARTTLS ---------------------------------------------------------
def attack_starttls(figures: Figures) -> None:
    from test_imap_hostile import StrippingProxy

    with Trial("gk-attack-tls-") as trial:
        proxy = StrippingProxy(trial.server.imap_port)
        trial.configure(security="starttls", port=proxy.port)
        started = time.monotonic()
        figures["starttls_stripped_exit_code"] = trial.start().wait(timeout=120)
        figures["starttls_stripped_seconds_to_stop"] = time.monotonic() - started
        status = json.loads((trial.home / "data" / "status.json").read_text())
        error = status["accounts"]["attack"]["error"]
        figures["starttls_stripped_clear_message"] = int("offers no STARTTLS" in error)
        figures["starttls_stripped_connections"] = proxy.connections
        figures["starttls_stripped_password_sent"] = int(PASSWORD.encode() in proxy.sent)
        proxy.close()


# -- 4. a full disk ------------------------------------------------------------------------------
def attack_full_disk(messages: list[bytes], figures: Figures) -> None:
    from test_storage_failures import fill

    with Trial("gk-attack-disk-") as trial:
        data = trial.home / "data"
        data.mkdir()
        if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(data)]).returncode:
            print("  full disk: cannot mount a tmpfs (not root?); skipped", flush=True)
            return
        trial.mounted.append(data)
        daemon = trial.start()
        half = len(messages) // 2
        wait(lambda: trial.state() == "watching", 120)
        for raw in messages[:half]:
            trial.deliver(raw)
        wait(lambda: trial.decided() >= half, 300)
        filler = fill(data)
        for raw in messages[half:]:
            trial.deliver(raw)
        figures["full_disk_exit_code"] = daemon.wait(timeout=120)
        figures["full_disk_clear_message"] = int("the disk is full: free some space" in trial.log())
        figures["full_disk_tracebacks"] = trial.log().count("Traceback")
        figures["full_disk_messages_lost"] = len(messages) - trial.on_server()
        filler.unlink()
        daemon = trial.start()
        wait(lambda: trial.decided() >= len(messages), 300)
        figures["full_disk_left_unscored_after_restart"] = len(messages) - trial.decided()
        daemon.send_signal(signal.SIGTERM)
        daemon.wait(timeout=60)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--inputs", type=int, default=3000, help="inputs read in part 1")
    parser.add_argument("--messages", type=int, default=300,
                        help="ordinary messages in the daemon's stream (hostile ones come on top)")
    parser.add_argument("--huge", type=int, default=3, help="messages with 50 MB headers")
    parser.add_argument("--restarts", type=int, default=3, help="server restarts")
    parser.add_argument("--seed", type=int, default=15)
    parser.add_argument("--corpus-dir", type=Path, default=ROOT.parent / "shared" / "corpora")
    parser.add_argument("--parts", nargs="+", default=["read", "daemon", "starttls", "disk"],
                        choices=["read", "daemon", "starttls", "disk", "rss"])
    parser.add_argument("--code", type=Path,
                        help="run the daemon from this checkout instead (rss: before and after)")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    if args.code:
        CODE.append(str(args.code.resolve()))

    rng = random.Random(args.seed)
    figures = Figures()
    real = sample_mail(max(args.inputs, args.messages), args.corpus_dir)  # unique ids
    hostile = [raw for _, raw in hostile_mail.corpus(copies=3)]
    mutants = [mutate(raw, n, rng) for n, raw in enumerate(real[: args.inputs])]
    ordinary = real[: args.messages]
    stream = ordinary + hostile + mutants[: args.messages // 3] + random_mail(20, rng)
    rng.shuffle(stream)
    parts = {"read": lambda: attack_reading(hostile + mutants + random_mail(200, rng), figures),
             "daemon": lambda: attack_daemon(stream, args.huge, args.restarts, figures),
             "starttls": lambda: attack_starttls(figures),
             "disk": lambda: attack_full_disk(ordinary[:20], figures),
             "rss": lambda: measure_rss(ordinary, args.huge, figures)}
    for part in args.parts:
        parts[part]()
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
