#!/usr/bin/env python3
"""Benchmark the daemon end to end against a private Dovecot on 127.0.0.1.

Runs the real `gatekeeper run` (real model, default settings, active mode) as a
subprocess and measures, in one run:
- latency: messages appended one at a time, each after the previous was decided; the
  time from APPEND to the decision appearing in the database (p50, p95);
- throughput: N messages appended at once, from the first APPEND to the last decision;
- RSS of the daemon after all of that (aim the total at 10,000 with --messages);
- CPU while idle: the daemon's CPU time over --idle-seconds with nothing arriving;
- stop: seconds from SIGTERM to exit.
Messages are real mail from the SpamAssassin corpus when ../shared/corpora has it,
otherwise generated ones.

    .venv/bin/python scripts/bench_daemon.py [--messages 10000] [--latency 50]
        [--idle-seconds 30] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))  # the private Dovecot of the test suite

import dovecot  # noqa: E402
from reader import PASSWORD, Reader  # noqa: E402

from gatekeeper.testing import build_message  # noqa: E402

PAGE_KB = os.sysconf("SC_PAGE_SIZE") / 1024
TICKS = os.sysconf("SC_CLK_TCK")


def sample_mail(count: int, corpus_dir: Path) -> list[bytes]:
    """`count` messages with unique Message-IDs: corpus mail cycled, or generated."""
    archive = corpus_dir / "spamassassin-2003-dev.tar.xz"
    if archive.exists():
        from gatekeeper.evaluation.corpus import default_cache_dir, load_spamassassin

        pool = [m.raw for m in load_spamassassin(archive, default_cache_dir())]
    else:
        pool = [build_message(subject=f"Note {n}", body=f"Message number {n}. " * 40)
                for n in range(500)]
    mail = []
    for n in range(count):
        raw = pool[n % len(pool)]
        header_end = raw.find(b"\n\n")
        # A fresh Message-ID in front, so every copy is a message of its own.
        mail.append(f"Message-ID: <bench-{n}@gatekeeper.test>\n".encode()
                    + _without_message_id(raw[:header_end]) + raw[header_end:])
    return mail


def _without_message_id(headers: bytes) -> bytes:
    lines, skipping = [], False
    for line in headers.split(b"\n"):
        if line[:1] in (b" ", b"\t") and skipping:
            continue
        skipping = line.lower().startswith(b"message-id:")
        if not skipping:
            lines.append(line)
    return b"\n".join(lines)


def decided_count(database: Path) -> int:
    if not database.exists():
        return 0
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=5) as connection:
        try:
            return connection.execute("SELECT count(*) FROM messages").fetchone()[0]
        except sqlite3.OperationalError:  # not created yet
            return 0


def wait_for_count(database: Path, count: int, timeout: float, poll: float = 0.01) -> float:
    deadline = time.monotonic() + timeout
    while decided_count(database) < count:
        if time.monotonic() > deadline:
            raise RuntimeError(f"only {decided_count(database)} of {count} decided in {timeout} s")
        time.sleep(poll)
    return time.monotonic()


def process_stats(pid: int) -> tuple[float, float]:
    """(CPU seconds used, RSS in MB) of a process."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    cpu = (int(fields[11]) + int(fields[12])) / TICKS
    rss_pages = int(Path(f"/proc/{pid}/statm").read_text().split()[1])
    return cpu, rss_pages * PAGE_KB / 1024


def write_config(home: Path, server: dovecot.Dovecot) -> None:
    (home / "config").mkdir(parents=True)
    (home / "config" / "config.toml").write_text(f"""\
mode = "active"
interests = ["space exploration, rockets", "open source software and Linux"]
[[accounts]]
name = "bench"
host = "127.0.0.1"
port = {server.imaps_port}
username = "alice"
ca_file = "{server.ca_file}"
password_env = "GK_BENCH_PASSWORD"
""")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=10_000,
                        help="messages in all (latency ones included)")
    parser.add_argument("--latency", type=int, default=50, help="messages sent one at a time")
    parser.add_argument("--idle-seconds", type=float, default=30.0)
    parser.add_argument("--corpus-dir", type=Path, default=ROOT.parent / "shared" / "corpora")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()

    mail = sample_mail(args.messages, args.corpus_dir)
    server = dovecot.new_server({"alice": PASSWORD})
    home = Path(tempfile.mkdtemp(prefix="gk-bench-home-"))
    write_config(home, server)
    database = home / "data" / "gatekeeper.db"
    env = dict(os.environ, GATEKEEPER_HOME=str(home), GK_BENCH_PASSWORD=PASSWORD)
    reader = Reader(server)
    daemon = subprocess.Popen([sys.executable, "-m", "gatekeeper", "run"], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    figures = Figures()
    print(f"messages: {len(mail)} ({args.latency} one at a time, then "
          f"{len(mail) - args.latency} at once)", flush=True)
    try:
        status = home / "data" / "status.json"
        while not (status.exists() and "watching" in status.read_text()):
            time.sleep(0.05)
        time.sleep(1.0)  # idling now
        figures["rss_start_mb"] = process_stats(daemon.pid)[1]

        latencies = []
        for n, raw in enumerate(mail[: args.latency]):
            appended = time.monotonic()
            reader.deliver(raw)
            latencies.append(wait_for_count(database, n + 1, timeout=120) - appended)
            time.sleep(0.2)  # let it go back to IDLE
        latencies.sort()
        figures["latency_p50_s"] = statistics.median(latencies)
        figures["latency_p95_s"] = latencies[int(0.95 * (len(latencies) - 1))]

        bulk = mail[args.latency:]
        started = time.monotonic()
        for raw in bulk:
            reader.deliver(raw)
        appended = time.monotonic() - started
        finished = wait_for_count(database, len(mail), timeout=24 * 3600, poll=0.5)
        figures["bulk_messages"] = len(bulk)
        figures["append_per_s"] = len(bulk) / appended
        figures["throughput_per_s"] = len(bulk) / (finished - started)
        figures["decided"] = decided_count(database)
        figures["rss_after_all_mb"] = process_stats(daemon.pid)[1]

        time.sleep(2.0)
        cpu_before, _ = process_stats(daemon.pid)
        time.sleep(args.idle_seconds)
        cpu_after, _ = process_stats(daemon.pid)
        figures["idle_cpu_percent"] = 100 * (cpu_after - cpu_before) / args.idle_seconds

        stop_started = time.monotonic()
        daemon.send_signal(signal.SIGTERM)
        figures["exit_code"] = daemon.wait(timeout=60)
        figures["stop_seconds"] = time.monotonic() - stop_started
    finally:
        if daemon.poll() is None:
            daemon.kill()
        reader.close()
        dovecot.remove_server(server)
        shutil.rmtree(home, ignore_errors=True)
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))
    return 0


class Figures(dict):
    """The measurements, each printed as soon as it is taken (a later failure keeps them)."""

    def __setitem__(self, name: str, value: float) -> None:
        super().__setitem__(name, value)
        shown = f"{value:.3f}" if isinstance(value, float) else str(value)
        print(f"{name:>20}: {shown}", flush=True)


if __name__ == "__main__":
    sys.exit(main())
