"""Shared fixtures: a private gatekeeper home, and private Dovecot servers."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from dataclasses import fields, replace

import pytest

from gatekeeper.mail.config import AccountConfig
from gatekeeper.mail.mailbox import ImapSettings
from gatekeeper.mail.store import Store

import dovecot as dovecot_server
from reader import PASSWORD


@pytest.fixture(autouse=True)
def keep_umask():
    """The gatekeeper command sets its umask (0077) in the process that runs it: in a test
    run through CliRunner that is the test process, so it is put back after each test."""
    before = os.umask(0o022)
    os.umask(before)
    yield
    os.umask(before)


@pytest.fixture(autouse=True)
def private_home(tmp_path, monkeypatch):
    """Every test gets its own GATEKEEPER_HOME: no test touches a real home."""
    monkeypatch.setenv("GATEKEEPER_HOME", str(tmp_path / "gatekeeper-home"))
    monkeypatch.setenv("GATEKEEPER_CACHE", str(tmp_path / "cache"))
    return tmp_path / "gatekeeper-home"


def _require_dovecot() -> None:
    if shutil.which("dovecot") is None:
        pytest.fail(dovecot_server.install_hint(), pytrace=False)


@pytest.fixture
def start_dovecot() -> Iterator[Callable[..., dovecot_server.Dovecot]]:
    """Start private Dovecot servers (users alice and bob): STARTTLS and IMAPS with a
    self-signed certificate, or (tls=False) plain IMAP only; all are stopped afterwards."""
    _require_dovecot()
    servers: list[dovecot_server.Dovecot] = []

    def start(without: tuple[str, ...] = (), tls: bool = True) -> dovecot_server.Dovecot:
        server = dovecot_server.new_server({"alice": PASSWORD, "bob": PASSWORD}, without, tls)
        servers.append(server)
        return server

    yield start
    for server in servers:
        dovecot_server.remove_server(server)


@pytest.fixture
def server(start_dovecot) -> dovecot_server.Dovecot:
    return start_dovecot()


IMAP_SETTINGS = {f.name for f in fields(ImapSettings)}


def account_for(server: dovecot_server.Dovecot, user: str = "alice", **changes) -> AccountConfig:
    """Settings for an account on a test server, its password in $GK_TEST_PASSWORD;
    `changes` name settings of the account or of its [accounts.imap] section."""
    imap = ImapSettings(host="127.0.0.1", port=server.imaps_port, username=user, security="tls",
                        ca_file=server.ca_file, password_env="GK_TEST_PASSWORD",
                        timeout_seconds=10)
    imap = replace(imap, **{k: v for k, v in changes.items() if k in IMAP_SETTINGS})
    shared = {"poll_seconds": 1, **{k: v for k, v in changes.items() if k not in IMAP_SETTINGS}}
    return AccountConfig(user, imap, **shared)


def write_config(account: AccountConfig, mode: str = "active") -> None:
    """The home's settings file with this account (written as `gatekeeper init` writes
    one), the test reader's interest, and no probes."""
    from gatekeeper.mail.config import paths
    from gatekeeper.mail.onboarding import account_block

    from reader import SPACE

    where = paths()
    where.config.mkdir(parents=True, exist_ok=True)
    where.config_file.write_text(f'mode = "{mode}"\ninterests = ["{SPACE}"]\n'
                                 f"[policy]\nprobe_share = 0.0\n\n{account_block(account)}")


@pytest.fixture(autouse=True)
def test_password(monkeypatch):
    monkeypatch.setenv("GK_TEST_PASSWORD", PASSWORD)


@pytest.fixture
def store(tmp_path) -> Iterator[Store]:
    """A new gatekeeper database of its own (test_store.py opens its own on a path)."""
    database = Store(tmp_path / "gatekeeper.db")
    yield database
    database.close()
