"""A private rspamd for the evaluation: its own config, redis, resolver and ports.

`PrivateRspamd` runs Debian's rspamd (3.4) with Debian's rules, and its Bayes on a redis
of its own, all on 127.0.0.1 under one temporary folder: never the system services.
Network checks are off: the modules that ask DNS lists, check SPF, DKIM or DMARC, ask the
public fuzzy storage or fetch lists from the web are disabled, the maps with a local copy
read only that copy, and rspamd's resolver is a stub in this process that answers every
question "no such name" at once, so no stray lookup waits on a time-out or leaves the
machine. Messages are learned through the controller and scanned by the normal workers
over rspamd's HTTP protocol, several at a time, as stored mail: without the SMTP
session's client address, HELO or envelope.
"""

from __future__ import annotations

import http.client
import json
import logging
import os
import shutil
import signal
import socket
import struct
import subprocess
import tempfile
import threading
import time
import weakref
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from ..errors import BaselineFailedError

logger = logging.getLogger(__name__)

DEBIAN_CONFDIR = Path("/etc/rspamd")
# The score from which rspamd files mail as spam (action "add header"; Debian's default,
# written into the config here so the two cannot drift apart).
SPAM_SCORE = 6.0
# Modules that need the network: DNS lists of IPs, URLs and addresses (rbl, surbl,
# emails), sender authentication (spf, dkim, dmarc, arc), ASN lookups, the public fuzzy
# storage, lists fetched from the web (phishing feeds, multimap's freemail lists,
# whitelist's domain lists) and rule updates.
NETWORK_MODULES = ("rbl", "surbl", "emails", "spf", "dkim", "dmarc", "arc", "asn",
                   "fuzzy_check", "phishing", "multimap", "whitelist", "rspamd_update")
# Scans sent at a time: with 2 workers on 2 shared cores, 1 070 scans of hard ham ran at
# 121, 125, 123, 137, 94 and 83 messages/s with 1, 2, 4, 8, 16 and 32 at a time.
IN_FLIGHT = 8
STARTUP_SECONDS = 60.0
REQUEST_SECONDS = 60.0


def config_files(*, scan_port: int, controller_port: int, redis_port: int, dns_port: int,
                 workers: int, min_learns: int, hyperscan_dir: Path) -> dict[str, str]:
    """The files of the private config (path under the config folder -> text). Debian's
    files stay the base ($CONFDIR); local.d adds to them, override.d replaces."""
    files = {
        "rspamd.conf": TOP_LEVEL.format(scan_port=scan_port, controller_port=controller_port,
                                        workers=workers),
        "override.d/options.inc": f'dns {{ nameserver = ["127.0.0.1:{dns_port}"]; }}\n'
                                  f'hs_cache_dir = "{hyperscan_dir}";\n',
        "local.d/classifier-bayes.conf": f'servers = "127.0.0.1:{redis_port}";\n'
                                         f"min_learns = {min_learns};\n",
        "override.d/actions.conf": f"add_header = {SPAM_SCORE};\n",
        # The SMTP client's name and HELO are unknown here, and the sender's domain
        # would be looked up in DNS.
        "local.d/hfilter.conf": "helo_enabled = false;\nhostname_enabled = false;\n"
                                "from_enabled = false;\n",
        "override.d/mime_types.conf": 'file = ["${CONFDIR}/maps.d/mime_types.inc"];\n',
        "override.d/mid.conf": 'source { url = ["${CONFDIR}/maps.d/mid.inc"]; }\n',
    }
    files.update({f"local.d/{module}.conf": "enabled = false;\n" for module in NETWORK_MODULES})
    return files


TOP_LEVEL = """\
.include "$CONFDIR/common.conf"
options {{
    pidfile = "$RUNDIR/rspamd.pid";
    .include "$CONFDIR/options.inc"
    .include(try=true; priority=10) "$LOCAL_CONFDIR/override.d/options.inc"
}}
logging {{  # problems only: no line per message
    type = "file";
    filename = "$LOGDIR/rspamd.log";
    level = "warning";
}}
worker "normal" {{
    bind_socket = "127.0.0.1:{scan_port}";
    mime = true;
    count = {workers};
}}
worker "controller" {{
    bind_socket = "127.0.0.1:{controller_port}";
    count = 1;
    secure_ip = "127.0.0.1";
}}
"""


def nxdomain_reply(query: bytes) -> bytes | None:
    """The answer "no such name" to a DNS query, or None when it is not one."""
    if len(query) < 12 or struct.unpack(">H", query[4:6])[0] != 1 or query[2] & 0x80:
        return None
    end = 12
    while end < len(query) and query[end]:
        if query[end] & 0xC0:  # a compressed name cannot appear in a lone question
            return None
        end += query[end] + 1
    end += 5  # the root label, then type and class
    if end > len(query):
        return None
    # QR (a reply), the query's opcode and RD, RA, RCODE 3 (NXDOMAIN); one question.
    flags = 0x8000 | (query[2] & 0x79) << 8 | 0x80 | 3
    return query[:2] + struct.pack(">HHHHH", flags, 1, 0, 0, 0) + query[12:end]


class NxdomainResolver:
    """A DNS server on a free UDP port of 127.0.0.1 answering "no such name" at once."""

    def __init__(self) -> None:
        self.socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.socket.bind(("127.0.0.1", 0))
        self.port = self.socket.getsockname()[1]
        self.questions = 0
        self._closed = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="nxdomain-resolver",
                                        daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._closed.is_set():
            try:
                query, peer = self.socket.recvfrom(4096)
                reply = nxdomain_reply(query)
                if reply is not None:
                    # Counted before the reply: the asker's caller may read the count as
                    # soon as the answer arrives.
                    self.questions += 1
                    self.socket.sendto(reply, peer)
            except OSError:  # e.g. an ICMP "port unreachable" from a gone asker
                continue

    def close(self) -> None:
        self._closed.set()
        self.socket.sendto(b"", ("127.0.0.1", self.port))  # wakes the loop to see it
        self._thread.join()
        self.socket.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def post(port: int, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
    """(HTTP status, body) of one POST to 127.0.0.1; status 0 when it could not be sent
    (rspamd closes every connection after its answer, so none is kept)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=REQUEST_SECONDS)
    try:
        connection.request("POST", path, body=body, headers=headers)
        response = connection.getresponse()
        return response.status, response.read()
    except (OSError, http.client.HTTPException) as error:
        return 0, str(error).encode()
    finally:
        connection.close()


def _answers(port: int) -> bool:
    try:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        connection.request("GET", "/ping")
        return connection.getresponse().read().strip() == b"pong"
    except (OSError, http.client.HTTPException):
        return False


def _redis_answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(64).startswith(b"+PONG")
    except OSError:
        return False


def _tail(path: Path, lines: int = 5) -> str:
    try:
        return " | ".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def _shutdown(processes: list[subprocess.Popen], resolver: NxdomainResolver,
              folder: Path) -> None:
    """Kill the processes' groups, close the resolver and remove the folder. Nothing in
    them is worth a graceful stop (SIGTERM took rspamd 0.2-0.4 s, SIGKILL 0.01 s)."""
    for process in reversed(processes):
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)  # its own session: rspamd's workers too
        process.wait()
    resolver.close()
    shutil.rmtree(folder, ignore_errors=True)


class PrivateRspamd:
    """rspamd with its own redis and resolver: `start`, `learn`, `scan`, `stop`."""

    def __init__(self, *, min_learns: int, cache_dir: Path) -> None:
        # Compiling rspamd's expressions took 8-15 s of one core: kept between runs.
        self.min_learns, self.hyperscan_dir = min_learns, cache_dir / "rspamd-hyperscan"
        self.folder = Path(tempfile.mkdtemp(prefix="gk-rspamd-"))
        self.processes: list[subprocess.Popen] = []
        self.resolver = NxdomainResolver()
        self.scan_port = self.controller_port = 0
        # Stopped by `stop`, or when this object is collected or the interpreter exits.
        self._finalizer = weakref.finalize(self, _shutdown, self.processes, self.resolver,
                                           self.folder)

    def start(self) -> PrivateRspamd:
        try:
            self._start_rspamd(self._start_redis())
        except BaseException:
            self.stop()
            raise
        return self

    def _start_redis(self) -> int:
        port = free_port()
        self._spawn(["redis-server", "--bind", "127.0.0.1", "--port", str(port),
                     "--save", "", "--appendonly", "no", "--dir", str(self.folder),
                     "--logfile", str(self.folder / "redis.log")])
        self._wait("redis", lambda: _redis_answers(port), self.folder / "redis.log")
        return port

    def _start_rspamd(self, redis_port: int) -> None:
        self.scan_port, self.controller_port = free_port(), free_port()
        folders = {"CONFDIR": DEBIAN_CONFDIR, "LOCAL_CONFDIR": self._write_config(redis_port),
                   "LOGDIR": self.folder, "DBDIR": self.folder / "db",
                   "RUNDIR": self.folder / "run"}
        command = ["rspamd", "--no-fork", "--config", str(folders["LOCAL_CONFDIR"] / "rspamd.conf"),
                   *(f"--var={name}={path}" for name, path in folders.items())]
        if os.geteuid() == 0:  # rspamd refuses root workers unless told: private, loopback
            command.append("--insecure")
        self._spawn(command)
        self._wait("rspamd", lambda: _answers(self.scan_port) and _answers(self.controller_port),
                   self.folder / "rspamd.log")

    def _write_config(self, redis_port: int) -> Path:
        """The config folder, written, with the folders rspamd writes to."""
        conf = self.folder / "conf"
        for name, text in config_files(
                scan_port=self.scan_port, controller_port=self.controller_port,
                redis_port=redis_port, dns_port=self.resolver.port,
                workers=os.cpu_count() or 1, min_learns=self.min_learns,
                hyperscan_dir=self.hyperscan_dir).items():
            (conf / name).parent.mkdir(parents=True, exist_ok=True)
            (conf / name).write_text(text)
        for name in ("db", "run"):
            (self.folder / name).mkdir()
        self.hyperscan_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        return conf

    def _spawn(self, command: list[str]) -> None:
        with open(self.folder / f"{Path(command[0]).name}.out", "wb") as output:
            self.processes.append(subprocess.Popen(
                command, stdin=subprocess.DEVNULL, stdout=output, stderr=subprocess.STDOUT,
                start_new_session=True))

    def _wait(self, what: str, ready: Callable[[], bool], log: Path) -> None:
        deadline = time.monotonic() + STARTUP_SECONDS
        while not ready():
            process = self.processes[-1]
            if process.poll() is not None or time.monotonic() > deadline:
                program = process.args[0] if isinstance(process.args, list) else process.args
                output = self.folder / f"{Path(str(program)).name}.out"
                raise BaselineFailedError(
                    f"the private {what} did not start (exit code {process.poll()}): "
                    f"{_tail(log)} {_tail(output)}")
            time.sleep(0.05)

    def _each(self, raws: Sequence[bytes], send: Callable[[bytes], tuple[int, bytes]]):
        with ThreadPoolExecutor(max_workers=IN_FLIGHT) as pool:
            return list(pool.map(send, raws))

    def learn(self, raws: Sequence[bytes], *, spam: bool) -> int:
        """Learn each message as spam or ham (bulk: even those Bayes already classes
        right); the number learned."""
        path = "/learnspam" if spam else "/learnham"
        answers = self._each(raws, lambda raw: post(self.controller_port, path, raw,
                                                    {"Learn-Type": "bulk"}))
        refused = [body for status, body in answers if status != 200]
        if refused:
            logger.info("rspamd did not learn %d of %d messages as %s, e.g. %s", len(refused),
                        len(raws), "spam" if spam else "ham", refused[0][:200])
        return len(raws) - len(refused)

    def scan(self, raws: Sequence[bytes]) -> list[float | None]:
        """rspamd's score of each message (None where it gave none)."""
        answers = self._each(raws, lambda raw: post(self.scan_port, "/checkv2", raw, {}))
        scores = [_score(status, body) for status, body in answers]
        if None in scores:
            logger.warning("rspamd gave no score to %d of %d messages", scores.count(None),
                           len(raws))
        return scores

    def stop(self) -> None:
        if self._finalizer.alive:
            logger.info("rspamd asked %d DNS questions, each answered 'no such name'",
                        self.resolver.questions)
        self._finalizer()


def _score(status: int, body: bytes) -> float | None:
    if status != 200:
        return None
    try:
        return float(json.loads(body)["score"])
    except (ValueError, KeyError, TypeError):
        return None
