"""A private Dovecot IMAP server on 127.0.0.1 for tests, with its own config and users.

Each server gets a 0755 folder under /tmp (Dovecot's users cannot enter pytest's 0700
tmp_path), a self-signed certificate, a passwd-file of users whose mail belongs to
`nobody`, and free ports for IMAP (STARTTLS) and IMAPS; or, with tls=False, plain IMAP
alone (no STARTTLS offered). The auth penalty is off so a
wrong password fails at once. `stop()` logs nothing out for us: callers close clients
first; then SIGTERM to the master, SIGKILL to what is left.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

MAIL_UID, MAIL_GID = 65534, 65534  # nobody / nogroup

CONFIG = """\
protocols = imap
listen = 127.0.0.1
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
info_log_path = {root}/dovecot.log
ssl = {ssl}
ssl_cert = <{root}/cert.pem
ssl_key = <{root}/key.pem
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_failure_delay = 0
default_internal_user = dovecot
default_login_user = dovenull
first_valid_uid = {uid}
mail_location = maildir:{root}/mail/%u
mail_uid = {uid}
mail_gid = {gid}
imap_capability = {capability}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/passwd
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={root}/home/%u
}}
namespace inbox {{
  inbox = yes
  separator = /
{special_folders}
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {imap_port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {imaps_port}
    ssl = yes
  }}
}}
service anvil {{
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
"""

# Without SPECIAL-USE the server has no such folders either: none is marked or made for you.
SPECIAL_FOLDERS = "".join(f"""\
  mailbox {name} {{
    special_use = \\{name}
    auto = subscribe
  }}
""" for name in ("Trash", "Junk", "Sent", "Archive"))

ALL_CAPABILITIES = ("IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE SORT SORT=DISPLAY "
                    "THREAD=REFERENCES MULTIAPPEND URL-PARTIAL CATENATE UNSELECT CHILDREN "
                    "NAMESPACE UIDPLUS LIST-EXTENDED I18NLEVEL=1 CONDSTORE QRESYNC ESEARCH "
                    "ESORT SEARCHRES WITHIN CONTEXT=SEARCH LIST-STATUS BINARY MOVE SNIPPET=FUZZY "
                    "PREVIEW=FUZZY PREVIEW STATUS=SIZE SAVEDATE LITERAL+ NOTIFY SPECIAL-USE")


def install_hint() -> str:
    return ("Dovecot is not installed: as root run `apt-get install dovecot-imapd` "
            "(./scripts/test does this when it can)")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Dovecot:
    """A running private Dovecot server."""

    root: Path
    imap_port: int
    imaps_port: int
    users: dict[str, str] = field(default_factory=dict)
    without: tuple[str, ...] = ()  # capabilities to hide, e.g. ("MOVE", "IDLE")
    tls: bool = True  # False: plain IMAP only (no STARTTLS, no IMAPS listener)
    pid: int = 0

    @property
    def ca_file(self) -> str:
        return str(self.root / "cert.pem")

    def start(self) -> None:
        (self.root / "passwd").write_text(
            "".join(f"{user}:{{PLAIN}}{password}\n" for user, password in self.users.items()))
        capability = " ".join(c for c in ALL_CAPABILITIES.split() if c not in self.without)
        conf = self.root / "dovecot.conf"
        conf.write_text(CONFIG.format(root=self.root, uid=MAIL_UID, gid=MAIL_GID,
                                      imap_port=self.imap_port,
                                      imaps_port=self.imaps_port if self.tls else 0,
                                      ssl="yes" if self.tls else "no",
                                      capability=capability,
                                      special_folders="" if "SPECIAL-USE" in self.without
                                      else SPECIAL_FOLDERS))
        # Say what doveconf refused: one CI run saw it exit 89 (Dovecot's generic fatal)
        # once in 1,162 tests, and the bare exit status did not say why.
        checked = subprocess.run(["doveconf", "-n", "-c", str(conf)], capture_output=True)
        if checked.returncode:
            raise RuntimeError(f"doveconf refused {conf} (exit {checked.returncode}): "
                               f"{checked.stderr.decode(errors='replace')}")
        # The master daemonises and would keep a captured pipe open: give it /dev/null.
        subprocess.run(["dovecot", "-c", str(conf)], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.pid = int(self._wait_for(self.root / "run" / "master.pid").read_text())
        self._wait_for_port(self.imaps_port if self.tls else self.imap_port)

    def _wait_for(self, path: Path) -> Path:
        deadline = time.monotonic() + 10
        while not path.exists() or not path.read_text().strip():
            if time.monotonic() > deadline:
                raise RuntimeError(f"Dovecot did not start: {self.log()}")
            time.sleep(0.02)
        return path

    def _wait_for_port(self, port: int) -> None:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", port)) == 0:
                    return
            time.sleep(0.02)
        raise RuntimeError(f"Dovecot is not listening on {port}: {self.log()}")

    def log(self) -> str:
        path = self.root / "dovecot.log"
        return path.read_text()[-3000:] if path.exists() else "(no log)"

    def stop(self) -> None:
        if not self.pid:
            return
        # Its children (imap, imap-login, auth) by PID now: once the master is gone they
        # would no longer be found, and an orphaned imap process keeps a client's
        # connection alive as if the server were still up.
        children = _children_of(self.pid)
        try:
            os.kill(self.pid, signal.SIGTERM)
        except ProcessLookupError:
            self.pid = 0
            return
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and _alive(self.pid):
            time.sleep(0.02)
        if _alive(self.pid):
            os.kill(self.pid, signal.SIGKILL)
        for pid in children:
            _kill(pid)
        _kill_children_of(self.root)
        self.pid = 0

    def signal_imap_processes(self, signum: int) -> None:
        """Signal the imap processes serving clients (not the login or auth helpers)."""
        for pid in _children_of(self.pid):
            try:
                command = Path(f"/proc/{pid}/cmdline").read_bytes()
            except OSError:
                continue
            if command.split(b"\0")[0] == b"dovecot/imap":
                os.kill(pid, signum)

    def restart(self) -> None:
        self.stop()
        self.start()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie is dead for our purposes
        return "Z" not in Path(f"/proc/{pid}/stat").read_text().split()[2]
    except OSError:
        return False


def _children_of(parent: int) -> list[int]:
    children = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            if ppid == parent:
                children.append(int(entry.name))
    return children


def _kill(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def _kill_children_of(root: Path) -> None:
    """Leftover Dovecot processes of this instance (they name its config in /proc)."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().decode(errors="replace")
        except OSError:
            continue
        if str(root) in cmdline:
            try:
                os.kill(int(entry.name), signal.SIGKILL)
            except ProcessLookupError:
                pass


def make_certificate(root: Path) -> None:
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
         "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
         "-keyout", str(root / "key.pem"), "-out", str(root / "cert.pem")],
        check=True, capture_output=True)


def new_server(users: dict[str, str], without: tuple[str, ...] = (), tls: bool = True) -> Dovecot:
    """Create and start a server; the caller stops it and removes its folder."""
    if shutil.which("dovecot") is None:
        raise RuntimeError(install_hint())
    root = Path(tempfile.mkdtemp(prefix="gk-dovecot-", dir="/tmp"))
    root.chmod(0o755)
    for sub in ("run", "state", "mail", "home"):
        (root / sub).mkdir()
    for sub in ("mail", "home"):
        os.chown(root / sub, MAIL_UID, MAIL_GID)
    make_certificate(root)
    server = Dovecot(root, free_port(), free_port(), dict(users), tuple(without), tls)
    server.start()
    return server


def remove_server(server: Dovecot) -> None:
    server.stop()
    shutil.rmtree(server.root, ignore_errors=True)
