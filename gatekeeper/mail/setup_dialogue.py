"""The questions `gatekeeper init` asks at a terminal (part of the cli wing: it prints).

The server found for the address is proposed and the person confirms or changes host,
port, security and login name; the password routes this machine has are offered by
their flags; the way in is tried aloud, then its likely alternatives, and the one that
worked is named; an untrusted certificate shows its fingerprint and asks whether to
trust it (or which file to trust), a refused login asks again. Whatever a flag already gave is not asked.
"""

from __future__ import annotations

import hashlib
import os
import ssl
from dataclasses import dataclass
from pathlib import Path

import click

from ..errors import AuthenticationError, CredentialsError, GatekeeperError, MailboxError
from ..terminal import inert
from . import onboarding
from .config import AccountConfig, paths
from .credentials import keyring_backend
from .discovery import Provider
from .mailbox import SECURITY, Folders, ImapSettings, server_certificate

LOGIN_TRIES = 3  # refused logins (or password routes that failed) before init gives up
WELL_KNOWN_SECURITY = {993: "tls", 143: "starttls"}
SECURITY_HELP = "tls = IMAPS, starttls, plain = unencrypted, this machine only"


def ask_server(address: str, server: Provider, given: dict) -> AccountConfig:
    """The account's server, port, security and login, proposed and confirmed."""
    click.echo(f"Proposed server: {inert(server.host)}:{server.port} ({server.security}), "
               f"{inert(server.found_by)}. Press Enter to keep an answer in [brackets].")
    if server.note:
        click.echo(f"note: {server.note}")
    host = given["host"] or click.prompt("IMAP server", default=server.host).strip()
    port = given["port"] or click.prompt("Port", default=server.port,
                                         type=click.IntRange(1, 65535))
    security = given["security"] or click.prompt(
        f"Security ({SECURITY_HELP})", type=click.Choice(SECURITY),
        show_choices=False, default=WELL_KNOWN_SECURITY.get(port, server.security))
    username = given["username"] or click.prompt("Login name", default=address).strip()
    auth = given["auth"] or _ask_auth(server, given)
    chosen = dict(given, host=host, port=port, security=security, username=username, auth=auth)
    return onboarding.account_for_address(address, server, **chosen)


def _ask_auth(server: Provider, given: dict) -> str:
    if server.auth != "oauth2" or given["oauth_token_command"]:
        return server.auth
    if click.confirm("Log in with an app password (no: OAuth2, with a command that prints "
                     "an access token)?", default=True):
        return "password"
    given["oauth_token_command"] = click.prompt("Command that prints an OAuth2 access token "
                                                "(--oauth-token-command)")
    return "oauth2"


@dataclass
class PasswordRoute:
    """How the password reaches gatekeeper: typed now (kept in the keyring once it
    works), or the account's password_command or password_env."""

    account: AccountConfig
    typed: str | None = None  # the password typed, to keep in the keyring after the login


def ask_password_route(account: AccountConfig) -> PasswordRoute:
    """The password routes this machine has, offered by their flags; the chosen one."""
    backend = keyring_backend()
    routes = ([("keyring", f"type it now; it is kept in the system keyring ({backend})")]
              if backend else [])
    routes += [("command", "a command that prints it, like `pass show mail` "
                           "(--password-command)"),
               ("env", "an environment variable that holds it (--password-env); a service "
                       "started at login does not see it")]
    if not backend:
        click.echo("There is no system keyring on this machine to keep the password in.")
    click.echo("How should gatekeeper get the password?")
    for number, (_, text) in enumerate(routes, 1):
        click.echo(f"  {number}. {text}")
    while True:
        route = routes[click.prompt("Choose", type=click.IntRange(1, len(routes)),
                                    default=1) - 1][0]
        if route == "keyring":
            return PasswordRoute(account, _ask_password())
        if route == "command":
            command = click.prompt("Command that prints the password").strip()
            return PasswordRoute(account.with_backend(password_command=command))
        variable = click.prompt("Environment variable").strip()
        if os.environ.get(variable):
            return PasswordRoute(account.with_backend(password_env=variable))
        click.echo(f"${inert(variable)} is not set here: set it and run init again, or "
                   "choose another way.")


def _ask_password() -> str:
    return click.prompt("Password", hide_input=True)


def connect(route: PasswordRoute) -> tuple[AccountConfig, Folders]:
    """Log in the way chosen, else by the likely alternatives, saying each try aloud and
    asking the person what only they can answer; the way that worked and its folders."""
    account, login_tries = route.account, [0]

    def trying(way: AccountConfig) -> None:
        click.echo(f"Connecting to {_way(way)} ...")

    def failed(way: AccountConfig, error: GatekeeperError) -> AccountConfig | None:
        click.echo(f"  {inert(_problem(error, way.name))}")
        if isinstance(error, MailboxError) and error.remedy and error.remedy.setting == "ca_file":
            return _ask_ca_file(way)
        if not isinstance(error, (AuthenticationError, CredentialsError)) \
                or login_tries[0] >= LOGIN_TRIES - 1:
            return None
        login_tries[0] += 1
        if isinstance(error, AuthenticationError):
            login = way.section(ImapSettings).username
            way = way.with_backend(username=click.prompt("Login name", default=login).strip())
            if route.typed is not None:
                route.typed = _ask_password()
                return way
        chosen = ask_password_route(way.with_backend(password_env="", password_command=""))
        route.typed = chosen.typed
        return chosen.account

    way, folders = onboarding.connect_first(account, lambda: route.typed, failed, trying)
    tried, works = account.section(ImapSettings), way.section(ImapSettings)
    if (works.port, works.security) != (tried.port, tried.security):
        click.echo(f"{_way(way)} works ({tried.security} on port {tried.port} did not): "
                   "using it.")
    return way, folders


def _way(way: AccountConfig) -> str:
    server = way.section(ImapSettings)
    return f"{inert(server.host)}:{server.port} ({server.security})"


def _problem(error: GatekeeperError, account_name: str) -> str:
    """The failure without its account's name (there is one account here) or its fix
    written as a setting (the dialogue asks for it)."""
    problem = error.problem if isinstance(error, MailboxError) else str(error)
    return problem.removeprefix(f"{account_name}: ")


def _ask_ca_file(way: AccountConfig) -> AccountConfig | None:
    """The certificate to trust for a self-signed server, the one it shows (once the
    person has compared its fingerprint) or one from a file; None stops."""
    try:
        shown = server_certificate(way)
    except GatekeeperError:
        shown = None
    if shown is not None:
        fingerprint = hashlib.sha256(shown).hexdigest().upper()
        click.echo("  The server shows a certificate with the SHA-256 fingerprint\n    "
                   + ":".join(fingerprint[i:i + 2] for i in range(0, len(fingerprint), 2))
                   + "\n  Compare it with the server's own (on the server: `openssl x509 "
                   "-noout -fingerprint -sha256 -in CERT.pem`).")
        server = way.section(ImapSettings)
        saved = paths().config / "certificates" / f"{server.host}-{server.port}.pem"
        if click.confirm(f"Trust this certificate? (saved as {saved})", default=False):
            saved.parent.mkdir(parents=True, exist_ok=True)
            saved.write_text(ssl.DER_cert_to_PEM_cert(shown))
            return way.with_backend(ca_file=str(saved))
    while True:
        answer = click.prompt("File of the server's certificate, or of the authority that "
                              "signed it (PEM; --ca-file), empty to stop", default="",
                              show_default=False).strip()
        if not answer:
            return None
        path = Path(answer).expanduser()
        if path.is_file():
            return way.with_backend(ca_file=str(path.resolve()))
        click.echo(f"no file at {inert(path)}")


def ask_statements() -> tuple[list[str], list[str]]:
    """Interests and disinterests in the person's words, one a line, empty to go on."""
    click.echo("Say in a few words what you want in your mail, one thing a line (an empty "
               "line goes on), e.g. \"space exploration, rockets\":")
    interests = _lines("Interest")
    click.echo("And what you do NOT want, e.g. \"fundraising emails\":")
    return interests, _lines("Not wanted")


def _lines(label: str) -> list[str]:
    found = []
    while answer := click.prompt(label, default="", show_default=False).strip():
        found.append(answer)
    return found
