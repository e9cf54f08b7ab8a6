"""Setting up an account: guess the server, check the login, write the settings.

`gatekeeper init` is a thin layer over this. A small table of common providers gives the
IMAP server for an address (anything else is guessed as imap.<domain>); the login is
checked and the folders found before anything is written, and the account is added to
the commented settings file as an `[[accounts]]` block, mode left as it is (shadow for a
new install).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, fields, replace

from .config import AccountConfig, parse_settings
from .errors import ConfigError
from .mailbox import Folders, open_mailbox


@dataclass(frozen=True)
class Provider:
    host: str
    port: int = 993
    security: str = "tls"
    auth: str = "password"
    note: str = ""


_GOOGLE = Provider("imap.gmail.com", auth="oauth2",
                   note="Gmail needs OAuth2 (oauth_token_command) or an app password")
_MICROSOFT = Provider("outlook.office365.com", auth="oauth2",
                      note="Microsoft 365 and Outlook.com need OAuth2 (oauth_token_command)")
_APPLE = Provider("imap.mail.me.com", note="iCloud needs an app-specific password")
PROVIDERS: dict[str, Provider] = {
    "gmail.com": _GOOGLE, "googlemail.com": _GOOGLE,
    "outlook.com": _MICROSOFT, "hotmail.com": _MICROSOFT, "live.com": _MICROSOFT,
    "msn.com": _MICROSOFT,
    "icloud.com": _APPLE, "me.com": _APPLE, "mac.com": _APPLE,
    "yahoo.com": Provider("imap.mail.yahoo.com", note="Yahoo needs an app password"),
    "aol.com": Provider("imap.aol.com", note="AOL needs an app password"),
    "fastmail.com": Provider("imap.fastmail.com"),
    "zoho.com": Provider("imap.zoho.com"),
    "gmx.com": Provider("imap.gmx.com"), "gmx.net": Provider("imap.gmx.net"),
    "gmx.de": Provider("imap.gmx.net"), "web.de": Provider("imap.web.de"),
    "posteo.de": Provider("posteo.de"), "mailbox.org": Provider("imap.mailbox.org"),
    "proton.me": Provider("127.0.0.1", 1143, "starttls",
                          note="Proton Mail works through Proton Mail Bridge on this machine"),
    "protonmail.com": Provider("127.0.0.1", 1143, "starttls",
                               note="Proton Mail works through Proton Mail Bridge on this machine"),
}


def guess_provider(address: str) -> Provider:
    """The IMAP server for an address: from the table, else imap.<domain> on 993."""
    if "@" not in address:
        raise ConfigError(f"{address!r} is not an email address (expected name@domain)")
    domain = address.rpartition("@")[2].strip().lower()
    return PROVIDERS.get(domain) or Provider(f"imap.{domain}")


def account_for_address(address: str, **overrides) -> AccountConfig:
    """An account for `address`, the provider's settings overridden by what was given."""
    provider = guess_provider(address)
    name = address.partition("@")[0].lower() or "mail"
    config = AccountConfig(name=name, host=provider.host, port=provider.port,
                           security=provider.security, auth=provider.auth, username=address)
    config = replace(config, **{k: v for k, v in overrides.items() if v not in (None, "")})
    parse_settings(account_block(config), "the account")  # says what is missing or wrong
    return config


def verify(account: AccountConfig) -> Folders:
    """Log in and find (or create) the folders; raises a GatekeeperError saying what failed."""
    mailbox = open_mailbox(account)
    try:
        return mailbox.folders()
    finally:
        mailbox.close()


def account_block(account: AccountConfig) -> str:
    """The account as an `[[accounts]]` block: every setting that differs from the default."""
    defaults = AccountConfig(name=account.name)
    lines = ["[[accounts]]"]
    for field in fields(AccountConfig):
        value = getattr(account, field.name)
        if field.name == "name" or value != getattr(defaults, field.name):
            lines.append(f"{field.name} = {json.dumps(value)}")
    return "\n".join(lines) + "\n"


def add_account(text: str, account: AccountConfig) -> str:
    """The settings text with the account added at the end, comments kept."""
    if any(a.name == account.name for a in parse_settings(text).accounts):
        raise ConfigError(f"an account named {account.name!r} is already set up; "
                          "choose another with --name")
    updated = text.rstrip("\n") + "\n\n" + account_block(account)
    parse_settings(updated)  # never write a file that would not load
    return updated
