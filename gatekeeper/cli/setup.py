"""The commands that set gatekeeper up: `init` an account, `interests`, `mode`, the
`allow` and `block` lists, and the login `service`."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from pathlib import Path

import click

from ..core.vocabulary import Mode
from ..errors import InputError
from ..terminal import inert
from . import main
from .common import reports_errors
from .mail import running_daemon, train

def _edit_settings(change: Callable[[str], str]) -> Path:
    """Apply `change` to the settings file's text (the default when there is none yet),
    check the result parses, and write it."""
    from ..mail.config import default_config_text, parse_settings, paths

    path = paths().config_file
    text = change(path.read_text() if path.exists() else default_config_text())
    parse_settings(text, str(path))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


@main.command()
@click.option("--address", help="Your email address (asked when not given).")
@click.option("--name", help="A short name for the account (default: the address's local part).")
@click.option("--host", help="IMAP server (default: found from the address).")
@click.option("--port", type=click.IntRange(1, 65535), help="IMAP port (default: 993).")
@click.option("--security", type=click.Choice(["tls", "starttls", "plain"]),
              help="tls (IMAPS), starttls, or plain (only to this machine).")
@click.option("--username", help="Login name (default: the address).")
@click.option("--ca-file", type=click.Path(exists=True, dir_okay=False, resolve_path=True),
              help="Certificate (PEM) to trust: a self-signed server's, or its own CA's.")
@click.option("--auth", type=click.Choice(["password", "oauth2"]),
              help="password, or oauth2 (Gmail, Microsoft 365).")
@click.option("--password-env", metavar="VAR", help="Read the password from this variable.")
@click.option("--password-command", metavar="CMD", help="Run this to get the password.")
@click.option("--oauth-token-command", metavar="CMD", help="For oauth2: prints an access token.")
@click.option("--no-verify", is_flag=True, help="Write the settings without logging in first.")
@click.pass_context
@reports_errors
def init(context: click.Context, address: str | None, no_verify: bool, **given) -> None:
    """Set up an account: find its server, check the login, write the settings.

    At a terminal it asks: it proposes the server (a well-known provider, the domain's
    DNS SRV records, else imap.<domain>), lets you change host, port, security and login
    name, offers the ways to give the password this machine has, tries the likely
    alternatives when the first way fails, and ends by offering to add interests and
    learn from your mail (`gatekeeper train`). Options answer questions before they are
    asked. The account starts in shadow mode: gatekeeper decides and records but
    touches nothing until `gatekeeper mode active`.

    Example: gatekeeper init --address me@fastmail.com
    """
    from ..errors import CredentialsError, MailboxError
    from ..mail import onboarding
    from ..mail.credentials import NO_KEYRING, OTHER_ROUTES, keyring_backend, store_password
    from ..mail.discovery import find_server
    from ..mail.mailbox import ImapSettings

    at_terminal = sys.stdin.isatty()
    address = (address or click.prompt("Your email address")).strip()
    server = find_server(address)
    if at_terminal:
        from ..mail import setup_dialogue as dialogue

        account = dialogue.ask_server(address, server, given)
        route = (dialogue.ask_password_route(account)
                 if account.section(ImapSettings).password_from_keyring
                 else dialogue.PasswordRoute(account))
    else:
        account = onboarding.account_for_address(address, server, **given)
        if server.note and not given["host"]:
            click.echo(f"note: {server.note}")
        login = account.section(ImapSettings)
        click.echo(f"server: {inert(login.host)}:{login.port} ({login.security}), "
                   f"{server.found_by if not given['host'] else 'as given'}; "
                   f"login {inert(login.username)}, auth {login.auth}")
        if login.password_from_keyring and keyring_backend() is None:
            raise CredentialsError(f"{NO_KEYRING}; {OTHER_ROUTES}")
    if not no_verify:
        try:
            account, folders = (dialogue.connect(route) if at_terminal
                                else (account, onboarding.verify(account)))
        except MailboxError as error:  # init is set up by flags: name the flag that helps
            raise InputError(error.with_flag()) from error
        click.echo("logged in; folders: " + inert(", ".join(
            f"{role} = {getattr(folders, role) or '(none)'}"
            for role in ("inbox", "held", "trash", "junk", "sent", "archive"))))
    if at_terminal and route.typed is not None:
        store_password(account.name, route.typed)
        click.echo(f"password kept in the system keyring ({keyring_backend()})")
    path = _edit_settings(lambda text: onboarding.add_account(text, account))
    from ..mail.config import load_settings

    click.echo(f"added account {account.name!r} to {path}; mode: {load_settings(path).mode} "
               "(gatekeeper decides and records, and touches no mail).")
    if at_terminal:
        _offer_first_steps(context, account.name)
    else:
        click.echo("Next: say what you want (`gatekeeper interests add \"...\"`), learn from "
                   "the mail you have (`gatekeeper train`), then `gatekeeper run`.")


def _offer_first_steps(context: click.Context, account_name: str) -> None:
    """After init at a terminal: interests in the person's words, then `train`."""
    from ..mail.setup_dialogue import ask_statements

    wanted, unwanted = ask_statements()
    for text, disinterest in [(t, False) for t in wanted] + [(t, True) for t in unwanted]:
        _change_statements(text, disinterest, add=True)
    if click.confirm("Learn now from the mail you already have (gatekeeper train)? Until it "
                     "has, gatekeeper knows only your interests", default=True):
        context.invoke(train, account_name=account_name)
        click.echo("Next: `gatekeeper run` watches your mail (Ctrl-C stops it); "
                   "`gatekeeper service install` runs it at login.")
    else:
        click.echo(f"Next: `gatekeeper train --account {account_name}`, then `gatekeeper run`.")


@main.group()
def interests() -> None:
    """Say in plain words what you want and do not want in your mail.

    Used from the first minute (before gatekeeper has seen you read anything) and weighed
    down as your behaviour teaches it more, never turned around. Mail counts as close to
    an interest by its meaning and by how many of the interest's own words it uses, so
    name the things you care about ("NASA, rockets, the moon"). A running daemon
    applies a change within seconds.

    Example: gatekeeper interests add "space exploration, rockets"
    """


_DISINTEREST = click.option("--disinterest", is_flag=True,
                            help="Something you do NOT want, e.g. \"fundraising emails\".")


@interests.command(name="add")
@click.argument("text")
@_DISINTEREST
@reports_errors
def interests_add(text: str, disinterest: bool) -> None:
    """Add an interest (or, with --disinterest, something you do not want).

    Example: gatekeeper interests add "crypto promotions" --disinterest
    """
    _change_statements(text.strip(), disinterest, add=True)


@interests.command(name="remove")
@click.argument("text")
@_DISINTEREST
@reports_errors
def interests_remove(text: str, disinterest: bool) -> None:
    """Remove an interest (or, with --disinterest, a disinterest), as listed.

    Example: gatekeeper interests remove "space exploration, rockets"
    """
    _change_statements(text.strip(), disinterest, add=False)


@interests.command(name="list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@reports_errors
def interests_list(as_json: bool) -> None:
    """List your interests and disinterests.

    Example: gatekeeper interests list
    """
    from ..mail.config import load_settings

    settings = load_settings()
    if as_json:
        click.echo(json.dumps({"interests": list(settings.interests),
                               "disinterests": list(settings.disinterests)}, indent=2))
        return
    for title, values in (("interests", settings.interests),
                          ("disinterests", settings.disinterests)):
        click.echo(f"{title}:")
        click.echo("".join(f"  {value}\n" for value in values).rstrip("\n") or "  (none)")


def _change_statements(text: str, disinterest: bool, add: bool) -> None:
    from ..mail.config import load_settings, set_statements

    if not text:
        raise InputError("give the interest in words, e.g. \"gardening and allotments\"")
    settings = load_settings()
    statements = {"interests": list(settings.interests),
                  "disinterests": list(settings.disinterests)}
    kind = "disinterests" if disinterest else "interests"
    if add and text not in statements[kind]:
        statements[kind].append(text)
    elif not add:
        if text not in statements[kind]:
            raise InputError(f"{text!r} is not among your {kind}; see `gatekeeper interests list`")
        statements[kind].remove(text)
    path = _edit_settings(lambda t: set_statements(t, statements["interests"],
                                                   statements["disinterests"]))
    click.echo(f"{'added to' if add else 'removed from'} {kind}: {text} ({path})"
               f"{_daemon_applies_settings()}")


@main.command()
@click.argument("new_mode", type=click.Choice([mode.value for mode in Mode]))
@reports_errors
def mode(new_mode: str) -> None:
    """Choose what gatekeeper does: shadow (record only), tag (IMAP keywords) or active.

    Active mode moves held mail to the held folder and deleted mail to Trash; nothing is
    ever expunged, and `gatekeeper undo` moves it back. A running daemon switches within
    seconds.

    Example: gatekeeper mode tag
    """
    from ..mail.config import set_mode

    path = _edit_settings(lambda text: set_mode(text, new_mode))
    click.echo(f"mode is now {new_mode} ({path}){_daemon_applies_settings()}")


SETTINGS_WAIT_SECONDS = 10.0  # how long a command waits to see the daemon apply settings


def _daemon_applies_settings() -> str:
    """When a daemon runs: wait until each of its accounts has applied the settings file
    as it is now, and say so."""
    from ..mail.config import paths, settings_file_state

    daemon = running_daemon()
    if daemon is None:
        return ""
    where = paths()
    wanted = settings_file_state(where.config_file)
    deadline = time.monotonic() + SETTINGS_WAIT_SECONDS
    while time.monotonic() < deadline:
        try:
            accounts = json.loads(where.status_file.read_text())["accounts"].values()
        except (OSError, ValueError, KeyError):
            accounts = []
        if accounts and all(a.get("settings_applied") == wanted for a in accounts):
            return f"; the running gatekeeper (pid {daemon.pid}) applied it"
        time.sleep(0.2)
    return f"; the running gatekeeper (pid {daemon.pid}) applies it within seconds"


def _list_command(kind: str):
    @reports_errors
    def command(entry: str, remove: bool) -> None:
        from ..mail.config import paths
        from ..mail.store import Store

        store = Store(paths().database)
        if remove:
            found = store.remove_from_list(kind, entry)
            click.echo(f"removed {entry} from the {kind} list" if found else
                       f"{entry} was not on the {kind} list")
        else:
            store.add_to_list(kind, entry)
            click.echo(f"{entry} is on the {kind} list")
    return command


for _kind, _doc in (
    ("allow", "Always pass mail from a sender address or a whole domain.\n\n"
              "Example: gatekeeper allow friend@example.org"),
    ("block", "Always delete (move to Trash) mail from a sender address or domain.\n\n"
              "Correspondents and replies to your own mail are never deleted.\n\n"
              "Example: gatekeeper block deals.example.com"),
):
    _function = _list_command(_kind)
    _function.__doc__ = _doc
    main.command(name=_kind)(click.option("--remove", is_flag=True, help="Take it off the list.")(
        click.argument("entry", metavar="SENDER-OR-DOMAIN")(_function)))


@main.group()
def service() -> None:
    """Run gatekeeper in the background at login (systemd user unit or launchd agent).

    Example: gatekeeper service install
    """


@service.command(name="install")
@reports_errors
def service_install() -> None:
    """Write the service file and print the command that starts it.

    The service gets this shell's PATH and GATEKEEPER_HOME, nothing else of it: an
    account that reads its password from an environment variable (--password-env) is
    refused; keep its password in the keyring or give a --password-command instead.

    Example: gatekeeper service install
    """
    from ..mail import service as user_service
    from ..mail.config import load_settings

    path, start = user_service.install(accounts=load_settings().accounts)
    click.echo(f"wrote {path}\nstart it with: {start}")


@service.command(name="uninstall")
@reports_errors
def service_uninstall() -> None:
    """Remove the service file and print the command that stops it.

    Example: gatekeeper service uninstall
    """
    from ..mail import service as user_service

    path, stop = user_service.uninstall()
    click.echo(f"removed {path}\nstop it with: {stop}")
