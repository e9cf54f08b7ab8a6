"""What gatekeeper keeps is private, and its log holds no message (F8, F9).

Every file and folder it writes is 0600 / 0700 from the start: the command sets its umask
before doing anything, whatever the shell's was. The log, even with `run -v`, holds
no body, no subject and no header value of any message.
"""

from __future__ import annotations

import os
import re
import signal
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from gatekeeper.cli import main
from gatekeeper.mail.config import paths
from gatekeeper.testing import build_message

from reader import Reader, wait_for
from test_daemon import decided
from test_imap import write_config


@pytest.fixture(autouse=True)
def shell_umask():
    """The umask most shells give: files 0644, folders 0755 unless a program says less."""
    before = os.umask(0o022)
    yield
    os.umask(before)


def modes_under(root: Path) -> dict[str, str]:
    """Path (relative) -> octal permission bits of everything under `root`, root included."""
    found = {".": oct(stat.S_IMODE(root.stat().st_mode))}
    for path in root.rglob("*"):
        found[str(path.relative_to(root))] = oct(stat.S_IMODE(path.lstat().st_mode))
    return found


def assert_private(root: Path) -> None:
    modes = modes_under(root)
    loose = {name: mode for name, mode in modes.items()
             if mode != (oct(0o700) if (root / name).is_dir() else oct(0o600))}
    assert not loose, loose


def test_commands_write_settings_and_state_privately(private_home, tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path / "user"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "user" / "config"))
    runner = CliRunner()
    for arguments in (["mode", "tag"], ["interests", "add", "rockets"],
                      ["allow", "friend@example.org"], ["status"], ["service", "install"]):
        result = runner.invoke(main, arguments)
        assert result.exit_code == 0, (arguments, result.output)
    assert_private(private_home)
    assert_private(tmp_path / "user" / "config" / "systemd")


def daemon_umask(pid: int) -> str:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("Umask:"):
            return line.split()[1]
    raise AssertionError("no umask in /proc")


@pytest.mark.model
def test_the_daemon_keeps_its_state_and_log_private_and_no_message_in_its_log(server):
    """`gatekeeper run -v` for real: every file it made is private, and the log names no
    subject, header value or body of the message it decided."""
    write_config(server, mode="active")
    os.chmod(paths().config_file, 0o600)  # written by the test, not by gatekeeper
    for folder in (paths().config, paths().config.parent):
        os.chmod(folder, 0o700)
    reader = Reader(server)
    reader.deliver(build_message(
        sender="Secret Sender Name <secret-sender@example.org>",
        subject="Subject words SUBJECTMARKER", body="The body says BODYMARKER " * 200,
        headers={"X-Private": "HEADERMARKER"}, message_id="<marker-1@example.org>"))
    process = subprocess.Popen([sys.executable, "-m", "gatekeeper", "run", "-v", "--existing"],
                               env=dict(os.environ), stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE)
    wait_for(lambda: decided(), timeout=120, what="the message to be decided")
    assert daemon_umask(process.pid) == "0077"
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=30)
    reader.close()

    assert_private(paths().config.parent)
    log = (paths().logs / "gatekeeper.log").read_text(errors="replace")
    assert "DEBUG" in log and re.search(r"message \S+ is <marker-1@example\.org>", log)  # verbose
    for secret in ("SUBJECTMARKER", "BODYMARKER", "HEADERMARKER", "Secret Sender Name"):
        assert secret not in log, secret
        assert secret.encode() not in stderr, secret
