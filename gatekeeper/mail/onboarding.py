"""Setting up an account: propose the server, check the login, write the settings.

`gatekeeper init` is a thin layer over this. `discovery` proposes the IMAP server for an
address; when it cannot be reached as proposed, `alternatives` lists the likely other
ways; the login is checked and the folders found before anything is written, and the
account is added to the commented settings file as an `[[accounts]]` block with its
`[accounts.imap]` section, mode left as it is (shadow for a new install).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import fields, replace

from ..errors import (AuthenticationError, ConfigError, CredentialsError, GatekeeperError,
                     MailboxError)
from .config import AccountConfig, parse_settings
from .discovery import Provider, find_server
from .mailbox import LOOPBACK, Folders, ImapMailbox, ImapSettings, open_mailbox


def account_for_address(address: str, server: Provider | None = None,
                        **overrides) -> AccountConfig:
    """An account for `address` on `server` (found from the address when not given), the
    server's settings overridden by what was given."""
    server = server or find_server(address)
    name = address.partition("@")[0].lower() or "mail"
    given = {k: v for k, v in overrides.items() if v not in (None, "")}
    imap = replace(ImapSettings(host=server.host, port=server.port, security=server.security,
                                auth=server.auth, username=address),
                   **{k: v for k, v in given.items() if k != "name"})
    config = AccountConfig(name=given.get("name", name), backend=imap)
    parse_settings(account_block(config), "the account")  # says what is missing or wrong
    return config


def verify(account: AccountConfig, secret: str | None = None) -> Folders:
    """Log in and find (or create) the folders; raises a GatekeeperError saying what failed.
    With `secret`, log in with it rather than the account's configured password source."""
    mailbox = open_mailbox(account) if secret is None else ImapMailbox(account, secret)
    try:
        return mailbox.folders()
    finally:
        mailbox.close()


# What a changed way brings to the alternatives after it: who logs in, and whom to trust.
CARRIED = ("username", "ca_file", "password_env", "password_command")
PROBE_TIMEOUT_SECONDS = 10  # per attempt: a STARTTLS client at an IMAPS port waits this long


def alternatives(account: AccountConfig) -> list[AccountConfig]:
    """The likely ways to reach the account's server after the given one failed: the other
    securities on the same port (plain IMAP only ever to this machine), then IMAPS on 993
    and STARTTLS on 143."""
    server = account.section(ImapSettings)
    tried = {(server.port, server.security)}
    securities = ["tls", "starttls"] + (["plain"] if server.host in LOOPBACK else [])
    ways = [(server.port, security) for security in securities]  # the port given first
    ways += [(993, "tls"), (143, "starttls")]
    found = []
    for port, security in ways:
        if (port, security) not in tried:
            tried.add((port, security))
            found.append(account.with_backend(port=port, security=security))
    return found


def needs_person(error: Exception) -> bool:
    """A failure no other port or security would fix: the login was refused, the
    password could not be had, or a server was reached whose certificate is not trusted."""
    if isinstance(error, (AuthenticationError, CredentialsError)):
        return True
    return isinstance(error, MailboxError) and error.remedy is not None \
        and error.remedy.setting == "ca_file"


def connect_first(account: AccountConfig, secret: Callable[[], str | None],
                  failed: Callable[[AccountConfig, GatekeeperError], AccountConfig | None],
                  trying: Callable[[AccountConfig], None] = lambda way: None
                  ) -> tuple[AccountConfig, Folders]:
    """Log in as the account says, else by its alternatives in turn; the first way that
    works and its folders.

    `secret()` gives the password to try (None: the account's own source). Each failure
    goes to `failed`, which may return a changed account to try again first (a CA file, a
    login name, a password source), carried on to the alternatives; a failure only the
    person can fix (`needs_person`) is raised when `failed` returns None, and when nothing
    works the first failure is. `trying` hears of each way before it is tried.
    """
    ways = [account, *alternatives(account)]
    first_failure: GatekeeperError | None = None
    while ways:
        way = ways.pop(0)
        trying(way)
        try:
            timeout = min(way.section(ImapSettings).timeout_seconds, PROBE_TIMEOUT_SECONDS)
            probe = way.with_backend(timeout_seconds=timeout)
            return way, verify(probe, secret())
        except GatekeeperError as error:
            retry = failed(way, error)
            if retry is not None:
                carried = {k: getattr(retry.section(ImapSettings), k) for k in CARRIED}
                ways = [retry] + [w.with_backend(**carried) for w in ways]
                continue
            if needs_person(error):
                raise
            first_failure = first_failure or error
    assert first_failure is not None  # the account itself was tried, and failed
    raise first_failure


def account_block(account: AccountConfig) -> str:
    """The account as an `[[accounts]]` block and its backend's section (`[accounts.imap]`,
    `[accounts.maildir]`): every setting that differs from the default."""
    shared = {f.name: getattr(account, f.name) for f in fields(account) if f.name != "backend"}
    own = {f.name: getattr(account.backend, f.name) for f in fields(account.backend)}  # type: ignore[arg-type]
    return (_table("[[accounts]]", shared, AccountConfig(account.name, account.backend))
            + _table(f"[accounts.{account.kind}]", own, type(account.backend)()))


def _table(header: str, values: dict, defaults: object) -> str:
    lines = [header] + [f"{key} = {json.dumps(value)}" for key, value in values.items()
                        if key == "name" or value != getattr(defaults, key)]
    return "\n".join(lines) + "\n"


def add_account(text: str, account: AccountConfig) -> str:
    """The settings text with the account added at the end, comments kept."""
    if any(a.name == account.name for a in parse_settings(text).accounts):
        raise ConfigError(f"an account named {account.name!r} is already set up; "
                          "choose another with --name")
    updated = text.rstrip("\n") + "\n\n" + account_block(account)
    parse_settings(updated)  # never write a file that would not load
    return updated
