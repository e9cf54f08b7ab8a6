"""The commands of a reader's mailbox: `run` the daemon, `train`, `review`, `undo`,
`explain`, and `status` and `stats` with their terminal rendering."""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

import click
from rich.table import Table
from rich.text import Text

from ..core.message import parse
from ..core.policy import ACTIONS
from ..errors import InputError
from ..terminal import InertFormatter, inert
from . import main
from .common import BarProgress, console, parse_duration, read_message_bytes, reports_errors

if TYPE_CHECKING:  # the store loads only with the commands that read it
    from ..mail.store import DecisionRecord

def setup_logging(log_dir: Path, verbose: bool) -> None:
    """Log to a rotated file in the log folder and to stderr, every line inert, never a
    message body: `-v` adds gatekeeper's own detail but not the IMAP protocol, which
    imapclient logs whole (FETCH responses included) at its debug level."""
    import logging
    from logging.handlers import RotatingFileHandler

    handlers: list[logging.Handler] = [logging.StreamHandler()]
    problem = ""
    try:
        log_dir.mkdir(parents=True, exist_ok=True)
        handlers.append(RotatingFileHandler(log_dir / "gatekeeper.log", maxBytes=5_000_000,
                                            backupCount=3))
    except OSError as error:  # a read-only or full disk: the terminal still gets the log
        problem = f"no log file in {log_dir} ({error}); logging here only"
    formatter = InertFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    for handler in handlers:
        handler.setFormatter(formatter)
    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO, handlers=handlers)
    logging.getLogger("imapclient").setLevel(logging.INFO)
    logging.raiseExceptions = False  # a line that cannot be written is dropped, not a traceback
    if problem:
        logging.getLogger(__name__).warning(problem)


@main.command()
@click.option("--existing", is_flag=True,
              help="Also decide mail already in the inbox on the first run (default: only new mail).")
@click.option("-v", "--verbose", is_flag=True,
              help="Log debugging detail, with each message's Message-ID and sender address "
                   "(never its subject or contents).")
@reports_errors
def run(existing: bool, verbose: bool) -> None:
    """Watch every configured account and decide new mail as it arrives.

    Runs in the foreground until Ctrl-C or SIGTERM; logs go to the log folder. In shadow
    mode (the default for a new install) it only decides and records.

    Example: gatekeeper run
    """
    from ..mail.config import load_settings, paths
    from ..mail.daemon import Daemon

    where = paths()
    setup_logging(where.logs, verbose)
    daemon = Daemon(load_settings(where.config_file), where, start_at_existing=existing)
    daemon.install_signal_handlers()
    sys.exit(daemon.run())


@main.command()
@click.option("--last", type=click.IntRange(0, 10_000), default=10, show_default=True,
              help="How many recent decisions and moves to list.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of tables.")
@reports_errors
def status(last: int, as_json: bool) -> None:
    """Show what the daemon is doing, what it decided and moved lately, and what it saved you.

    Per account: pass / hold / delete counts today and in the last 7 days (today and the
    6 days before, local time); the held messages waiting in review (as the local
    database knows them, without asking the server); and an estimate of the time saved:
    10 s for each unwanted message you no longer triage by hand, less 3 s for each held
    one you glance at in review (active mode only; decisions you undid or rescued do not
    count); and the messages it could not read or move (passed or left where they were,
    each with its error). Reads the daemon's status file and the local database; works
    whether or not the daemon is running. Journal IDs shown here are what `gatekeeper
    undo` takes.

    Example: gatekeeper status --last 20
    """
    from dataclasses import asdict

    from ..mail.config import load_settings, paths
    from ..mail.insight import TIME_SAVED_ASSUMPTION, account_activity
    from ..mail.store import Store

    where = paths()
    daemon = json.loads(where.status_file.read_text()) if where.status_file.exists() else {}
    # The lock, not the status file, says whether it runs: a killed daemon leaves its file.
    daemon["running"] = running_daemon() is not None
    store = Store.for_reading(where.database)
    decisions = store.decisions()[-last:] if last else []
    moves = [(entry, _subject_of(store, entry)) for entry in store.journal()[-last:]] \
        if last else []
    activity = account_activity(store, time.time())
    failed_count, failed = store.failed_decisions(limit=last)
    store.close()
    if as_json:
        click.echo(json.dumps({"daemon": daemon,
                               "activity": {a.account: asdict(a) for a in activity},
                               "time_saved_assumption": TIME_SAVED_ASSUMPTION,
                               "decisions": [d.as_stored() for d in decisions],
                               "journal": [asdict(entry) | {"subject": subject}
                                           for entry, subject in moves],
                               "failed": {"count": failed_count,
                                          "latest": [d.as_stored() for d in failed]}},
                              indent=2, default=str))
        return
    settings = load_settings(where.config_file)
    running = running_daemon()
    click.echo(f"mode: {settings.mode}    config: {where.config_file}    data: {where.data}")
    click.echo(f"daemon: {f'running, pid {running.pid}' if running else 'not running'}")
    for name, account in daemon.get("accounts", {}).items():
        counts = ", ".join(f"{n} {v}" for v, n in sorted(account["decided"].items())) or "none"
        error = f" ({account['error']})" if account["error"] else ""
        click.echo(inert(f"  {name}: {account['state']}{error}; decided since start: {counts}"))
        if running and account.get("warning"):
            click.echo(inert(f"  {name}: warning: {account['warning']}"))
    _print_activity(activity)
    _print_failed(failed_count, failed)
    several = len({decision.account for decision in decisions}) > 1
    if decisions:
        _print_fitting(
            "latest decisions (explain one with `gatekeeper explain ID`)",
            ["id", "decided", *(["account"] if several else []), "action", "P(w)", "from",
             "subject"],
            [[str(d.id), _when(d.decided_at), *([inert(d.account)] if several else []),
              d.action + (" (probe)" if d.probe else ""), f"{d.probability:.2f}",
              inert(d.sender), inert(d.subject)] for d in decisions])
    if moves:
        _print_fitting(
            "latest actions (undo one with `gatekeeper undo ID`)",
            ["id", "when", "action", "from", "to", "state", "subject"],
            [[str(entry.id), _when(entry.created_at),
              *map(inert, (entry.kind, entry.source, entry.target, entry.state, subject))]
             for entry, subject in moves])


def _when(timestamp: float) -> str:
    return time.strftime("%m-%d %H:%M", time.localtime(timestamp))


def _subject_of(store, entry) -> str:
    decision = store.decision_for(entry.account, entry.message_id, entry.content_hash or None)
    return decision.subject if decision is not None else ""


def _print_fitting(title: str, columns: list[str], rows: list[list[str]]) -> None:
    """A table that fits the terminal (80 columns, or a pipe's) a row to a line: the text
    columns (sender, subject, folders) are cut with an ellipsis, widest first, never
    wrapped over several lines."""
    widths = [max([len(column), *(len(row[i]) for row in rows)]) for i, column in enumerate(columns)]
    room = console.width - 3 * len(columns) - 1  # the borders and the padding
    # Who gives way, in turn: the subject's neighbours down to a comfortable width, then
    # to their least, and only then the subject.
    for names, floor in ((TEXT_COLUMNS.keys() - {"subject"}, 1),
                         (TEXT_COLUMNS.keys() - {"subject"}, 0), ({"subject"}, 0)):
        for i in sorted((i for i, c in enumerate(columns) if c in names),
                        key=lambda i: -widths[i]):
            excess = sum(widths) - room
            if excess > 0:
                widths[i] = max(min(widths[i], TEXT_COLUMNS[columns[i]][floor]),
                                widths[i] - excess)
    table = Table(title=title, title_justify="left", pad_edge=False)
    for column, width in zip(columns, widths):
        table.add_column(column, width=width, no_wrap=True, overflow="ellipsis")
    for row in rows:
        table.add_row(*row)
    console.print(table)


# The text columns a table may cut: (the least each keeps, what each gives way to first,
# before the subject does); the rest keep their width (ids, times, numbers).
TEXT_COLUMNS = {"from": (12, 24), "to": (8, 12), "account": (8, 10), "subject": (16, 16),
                "what went wrong": (16, 24)}


def _print_failed(count: int, failed: list[DecisionRecord]) -> None:
    if not count:
        return
    _print_fitting(f"{count} messages it could not read or move (passed unread, or left "
                   "where they were; never tried again)",
                   ["id", "decided", "action", "subject", "what went wrong"],
                   [[str(d.id), _when(d.decided_at), *map(inert, (d.action, d.subject, d.error))]
                    for d in failed])


def _decision_counts(decisions: dict[str, int]) -> str:
    return ", ".join(f"{n} {action}" for action, n in decisions.items())


def _print_activity(activity) -> None:
    from ..mail.insight import TIME_SAVED_ASSUMPTION, format_duration

    if not activity:
        return
    click.echo("activity (local time; last 7 days = today and the 6 days before):")
    for account in activity:
        today, week = account.today, account.last_7_days
        click.echo(f"  {inert(account.account)}: today {_decision_counts(today.decisions)}; "
                   f"last 7 days {_decision_counts(week.decisions)}")
        click.echo(f"    {account.waiting_in_review} waiting in review; time saved about "
                   f"{format_duration(today.seconds_saved)} today, "
                   f"{format_duration(week.seconds_saved)} in the last 7 days")
    click.echo(f"  (time saved is an estimate: {TIME_SAVED_ASSUMPTION})")


@main.command()
@click.option("--days", type=click.IntRange(1, 3650), default=30, show_default=True,
              help="How many local calendar days to cover, today included.")
@click.option("--account", "account_name", help="Only this account (default: every account).")
@click.option("--html", "html_file", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write one self-contained HTML page with charts to this file.")
@click.option("--json", "as_json", is_flag=True, help="Print everything as JSON.")
@reports_errors
def stats(days: int, account_name: str | None, html_file: Path | None, as_json: bool) -> None:
    """Show how gatekeeper's decisions went over time, and how you took them.

    Decisions per day by action, each day with a bar (█ pass, ▒ hold, ░ delete); how
    sure it was (the P(wanted) distribution of each action); the senders whose mail you
    engage with most and least (from what you did with the mail it decided); the share
    of holds and deletes you undid or rescued, a sign of how often it is wrong; and the
    estimated time saved (the assumption is printed with it).

    Example: gatekeeper stats --days 14 --html stats.html
    """
    from ..mail.config import paths
    from ..mail.insight import collect_stats, stats_page
    from ..mail.store import Store

    store = Store.for_reading(paths().database)
    try:
        report = collect_stats(store, days, time.time(), account_name)
    finally:
        store.close()
    if not report.total and not as_json:
        scope = f" for {account_name}" if account_name else ""
        click.echo(f"no decisions yet in the last {days} days{scope}, so no stats "
                   "(gatekeeper decides new mail while `gatekeeper run` watches)")
        return
    if html_file and report.total:
        html_file.write_text(stats_page(report))
    if as_json:
        click.echo(json.dumps(report.to_dict(), indent=2))
        return
    _print_stats(report)
    if html_file:
        click.echo(f"wrote {html_file}")


_BAR_GLYPHS = {"pass": ("█", "green"), "hold": ("▒", "yellow"), "delete": ("░", "red")}


def _day_bar(counts: dict[str, int], busiest: int, width: int = 30) -> Text:
    """One day's decisions as a bar as long, relative to the busiest day, as the day's
    total; every action that happened shows at least one glyph."""
    bar = Text()
    for action, count in counts.items():
        glyph, style = _BAR_GLYPHS[action]
        bar.append(glyph * (max(1, round(width * count / busiest)) if count else 0), style=style)
    return bar


def _print_stats(report) -> None:
    from ..mail.insight import TIME_SAVED_ASSUMPTION, describe_reversals, format_duration

    totals = {action: sum(report.per_day[action]) for action in ACTIONS}
    click.echo(f"{inert(report.account or 'all accounts')}: {report.total} decisions "
               f"({_decision_counts(totals)}) from {report.days[0]} to {report.days[-1]}"
               + (f"; {report.quiet_days} days without any left out" if report.quiet_days else ""))
    per_day = [{action: report.per_day[action][n] for action in ACTIONS}
               for n in range(len(report.days))]
    busiest = max(sum(counts.values()) for counts in per_day)
    table = Table("day", *ACTIONS, "", title="decisions per day (█ pass ▒ hold ░ delete)")
    for day, counts in zip(report.days, per_day, strict=True):
        table.add_row(day, *map(str, counts.values()), _day_bar(counts, busiest))
    console.print(table)
    edges = report.bin_edges
    table = Table("P(wanted)", *ACTIONS, title="how sure it was")
    for n in range(len(edges) - 1):
        table.add_row(f"{edges[n]:.1f}-{edges[n + 1]:.1f}",
                      *(str(report.histograms[action][n]) for action in ACTIONS))
    console.print(table)
    for title, senders in (("senders you engage with most", report.engaged),
                           ("senders you dis-engage from most", report.disengaged)):
        if senders:
            table = Table("sender", "for", "against", "what you did", title=title)
            for s in senders:
                table.add_row(inert(s.sender), f"{s.positive:g}", f"{s.negative:g}", ", ".join(
                    f"{behaviour} {n}" for behaviour, n in sorted(s.behaviours.items())))
            console.print(table)
    click.echo(describe_reversals(report))
    click.echo(f"time saved: about {format_duration(report.seconds_saved)} "
               f"(an estimate: {TIME_SAVED_ASSUMPTION})")


def parse_since(text: str) -> float:
    """A time given as 30m, 2h, 3d, 2w or an ISO date, as a Unix timestamp."""
    from datetime import datetime

    try:
        return time.time() - parse_duration(text)
    except InputError:
        pass  # not a duration: a date, then
    try:
        return datetime.fromisoformat(text).timestamp()
    except ValueError as error:
        raise InputError(f"--since {text!r}: give 30m, 2h, 3d or a date like 2026-11-20") from error


@main.command()
@click.argument("entry_ids", nargs=-1, type=int, metavar="[ID]...")
@click.option("--since", help="Undo every move since this time: 30m, 2h, 3d or a date.")
@reports_errors
def undo(entry_ids: tuple[int, ...], since: str | None) -> None:
    """Move messages back to where they were before gatekeeper moved them.

    Give journal entry IDs (from `gatekeeper status`), or --since to undo every
    hold and delete since a time. Each message goes back where it was before the first
    of those moves, whatever happened since (held, then deleted in review: back to the
    inbox in one step), and what review learned from it is taken back. Messages are
    found again by Message-ID. Works beside the running daemon, which learns what was
    taken back within seconds and does not count these moves as yours.

    Example: gatekeeper undo --since 2h
    """
    from ..mail import actions
    from ..mail.config import paths
    from ..mail.store import DONE, Store

    if not entry_ids and not since:
        raise InputError("say what to undo: journal entry IDs, or --since TIME")
    store = Store(paths().database)
    try:
        if entry_ids:
            found = [store.journal_entry(entry_id) for entry_id in entry_ids]
            for entry_id in (i for i, e in zip(entry_ids, found) if e is None):
                click.echo(f"{entry_id}: no such journal entry (see `gatekeeper status`)")
            entries = [e for e in found if e is not None]
        else:
            entries = [e for e in store.journal(state=DONE, since=parse_since(since or ""))
                       if e.kind in actions.UNDOABLE]
    finally:
        store.close()
    if not entries:
        click.echo("nothing to undo")
    for name in dict.fromkeys(entry.account for entry in entries):
        _undo_in(name, [entry for entry in entries if entry.account == name])


def _undo_in(account_name: str, entries: list) -> None:
    from ..mail import actions
    from ..mail.config import load_settings

    account = _open_account(None, "undo", config=load_settings().account(account_name))
    try:
        restored = 0
        for entry, done in actions.undo_each(account.mailbox, account.store, entries):
            restored += done
            click.echo(inert(f"{entry.id}: " + (f"restored to {entry.source}" if done
                                                else "not found where gatekeeper left it")
                             + f" ({entry.message_id})"))
        if restored:
            click.echo(describe_commit(account.commit()))
    finally:
        account.close()


@main.command()
@click.option("--account", "account_name", help="Which account (default: every account).")
@click.option("--days", type=click.IntRange(1, 3650), default=180, show_default=True,
              help="How far back to learn from.")
@click.option("--threads", type=click.IntRange(1, 64), default=os.cpu_count() or 1,
              show_default="every core",
              help="Cores the model may use while you wait (the daemon keeps to the "
                   "config's `threads`).")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@reports_errors
def train(account_name: str | None, days: int, threads: int, as_json: bool) -> None:
    """Learn what you want from the mail you already have.

    Sent mail names your correspondents; mail you answered, flagged or read counts for;
    unread mail in Trash, junked mail and bulk mail left unread for two weeks count
    against. Reports how well the result separates what you kept from what you threw
    away in the latest fifth of your mail, and what it would have done with last week's.
    Learns the newest mail first: the profile is saved and usable after the newest
    1,000 messages (well within a minute), then all older mail is learned.
    A new training replaces the last one's lessons; what you did with mail gatekeeper
    decided is kept. It can run while the daemon watches: the daemon learns each stage
    within seconds.

    Example: gatekeeper train --days 90
    """
    from rich.progress import (BarColumn, MofNCompleteColumn, Progress, ProgressColumn,
                               TextColumn, TimeRemainingColumn)

    class RateColumn(ProgressColumn):
        def render(self, task):
            return Text(f"{task.speed:.1f}/s" if task.speed else "")

    from ..core.embed import embedder_for
    from ..mail.account import Account
    from ..mail.config import load_settings, paths
    from ..mail.training import train as train_account

    where, settings = paths(), load_settings()
    accounts = [settings.account(account_name)] if account_name else list(settings.accounts)
    if not accounts:
        raise InputError("no accounts configured: run `gatekeeper init` first")
    embedder = embedder_for(settings, threads=threads)
    reports, committed = {}, {}
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
               RateColumn(), TimeRemainingColumn())
    for config in accounts:
        account = Account.open(config, settings, where, embedder, "train")
        started = time.monotonic()

        def usable(done: int, of: int, account=account) -> None:
            """After each stage but the last: make the profile usable now, and say so."""
            if done == of:
                return  # the whole history: committed below, with the report
            saved = describe_commit(account.commit(wait=False))
            if not as_json:
                console.print(f"{account.name}: learned the newest {done} of {of} messages "
                              f"after {time.monotonic() - started:.0f} s; {saved}; learning "
                              "older mail", markup=False, highlight=False, soft_wrap=True)

        try:
            with Progress(*columns, console=console, disable=as_json) as bar:
                reports[config.name] = train_account(
                    account.mailbox, account.brain, account.store, days=days,
                    progress=BarProgress(bar, f"{config.name}: "), learned=usable)
            committed[config.name] = account.commit()
        finally:
            account.close()
    if as_json:
        click.echo(json.dumps({name: {**r.__dict__, "behaviours": dict(r.behaviours),
                                      "last_week": dict(r.last_week),
                                      "learned_by": committed[name].by}
                               for name, r in reports.items()}, indent=2))
        return
    for name, r in reports.items():
        learned = ", ".join(f"{b} {n}" for b, n in r.behaviours.most_common()) or "nothing"
        click.echo(f"{name}: read {r.messages} messages of the last {days} days; learned from "
                   f"{r.examples} ({learned}); {r.correspondents} correspondents")
        if r.heldout_auc == r.heldout_auc:
            click.echo(f"  on the latest {r.heldout_examples}, trained on the earlier ones, it "
                       f"ranks kept mail above thrown-away mail {r.heldout_auc:.0%} of the time "
                       "(AUC)")
        else:
            click.echo("  too little kept and thrown-away mail in the latest part to estimate "
                       "how well it separates them")
        week = ", ".join(f"{action} {r.last_week.get(action, 0)}" for action in ACTIONS)
        click.echo(f"  with last week's mail it would have done: {week}")
        click.echo(f"  {describe_commit(committed[name])}")


def describe_commit(committed) -> str:
    """Where what a command learned went: the checkpoint, or the running daemon."""
    if committed.by == "this command":
        return "saved the profile"
    if committed.by and not committed.pending:
        return f"{committed.by} has learned it"
    if committed.by:
        return (f"{committed.by} has not learned {committed.pending} of the reactions yet; "
                "it will within seconds")
    return "recorded; gatekeeper learns it when it next starts"


@main.command()
@click.option("--account", "account_name", help="Which account (default: the first).")
@click.option("--list", "list_only", is_flag=True, help="List held mail and exit.")
@click.option("--json", "as_json", is_flag=True, help="With --list: print JSON.")
@click.option("--pass", "to_pass", type=int, multiple=True, metavar="ID",
              help="Pass this held message (back to the inbox; learned). Repeatable.")
@click.option("--delete", "to_delete", type=int, multiple=True, metavar="ID",
              help="Delete this held message (to Trash; learned). Repeatable.")
@reports_errors
def review(account_name: str | None, list_only: bool, as_json: bool, to_pass: tuple[int, ...],
           to_delete: tuple[int, ...]) -> None:
    """Go through held mail: pass it back to the inbox or delete it, and teach gatekeeper.

    Without options it shows each held message (sender, subject, snippet, score and the
    reasons) and takes one key: p pass, d delete, s skip, o open the full text, a allow
    the sender (and pass), b block the sender (and delete), q quit. --list, --pass and
    --delete do the same without asking.

    Example: gatekeeper review --pass 12 --delete 13
    """
    from ..mail.review import held_items
    from ..mail.store import Store

    if list_only:
        account, _, where = _configured_account(account_name)
        store = Store.for_reading(where.database)
        try:
            _print_held(held_items(store, account.name), as_json)
        finally:
            store.close()
        return
    session = _ReviewSession.open(account_name)
    try:
        items = held_items(session.store, session.account.name)
        if to_pass or to_delete:
            for item_id in to_pass:
                _report(item_id, "passed", session.reviewer.release(item_id))
            for item_id in to_delete:
                _report(item_id, "deleted", session.reviewer.discard(item_id))
        else:
            _review_interactively(session, items)
    finally:
        session.close()


def _report(item_id: int, done: str, ok: bool) -> None:
    click.echo(f"{item_id}: {done}" if ok else f"{item_id}: not found in the held folder")


def _print_held(items, as_json: bool) -> None:

    if as_json:
        click.echo(json.dumps([item.__dict__ for item in items], indent=2))
        return
    if not items:
        click.echo("nothing is held")
        return
    _print_fitting(f"{len(items)} held (pass or delete one with `gatekeeper review --pass ID`)",
                   ["id", "held", "P(w)", "from", "subject"],
                   [[str(item.id), _when(item.held_at), f"{item.probability:.2f}",
                     inert(item.sender), inert(item.subject)] for item in items])


def _configured_account(account_name: str | None):
    """(the account named, or the first; the settings; the paths)."""
    from ..mail.config import load_settings, paths

    where, settings = paths(), load_settings()
    if not settings.accounts:
        raise InputError("no accounts configured: run `gatekeeper init` first")
    account = settings.account(account_name) if account_name else settings.accounts[0]
    return account, settings, where


def _open_account(account_name: str | None, role: str, config=None):
    """The account named (or the first, or `config`), open with its brain caught up."""
    from ..core.embed import embedder_for
    from ..mail.account import Account

    account, settings, where = _configured_account(account_name)
    config = config or account
    embedder = embedder_for(settings)
    return Account.open(config, settings, where, embedder, role)


@main.command()
@click.argument("target", metavar="ID|FILE.eml|-")
@click.option("--account", "account_name", help="Whose profile scores a file (default: the first).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@reports_errors
def explain(target: str, account_name: str | None, as_json: bool) -> None:
    """Show the full reasoning for one message.

    Give a decision's ID (from `gatekeeper status` or `gatekeeper review --list`; shadow
    decisions have one too) to see it as it was made, or a message file (- for standard
    input) to score it now against your profile: P(wanted), what each kind of evidence
    added, the closest examples you kept or threw away, what your history with the
    sender says, the verdict with its reasons and its costs.

    Example: gatekeeper explain newsletter.eml
    """
    if target.isdigit() and not Path(target).exists():
        details = _explain_decision(int(target))
    else:
        account = _open_account(account_name, "explain")
        account.close()
        message = parse(read_message_bytes(target))
        (assessment,) = account.brain.assess([message])
        details = {
            "account": account.name, "sender": message.from_address, "subject": message.subject,
            "action": assessment.verdict.action, "probability": assessment.probability,
            **assessment.evidence(),
            "reasons": [reason.text for reason in assessment.verdict.reasons],
        }
    if as_json:
        click.echo(json.dumps(details, indent=2, default=str))  # ASCII: \u escapes, inert
        return
    for key, value in details.items():
        if isinstance(value, dict):
            click.echo(f"{key}:")
            for name, number in value.items():
                click.echo(f"  {inert(name)}: {number:.3f}" if isinstance(number, float)
                           else f"  {inert(name)}: {inert(number)}")
        elif isinstance(value, list):
            click.echo(f"{key}:")
            for entry in value:
                click.echo(f"  - {inert(entry)}")
        else:
            click.echo(f"{key}: {value:.3f}" if isinstance(value, float)
                       else f"{key}: {inert(value)}")


def _explain_decision(decision_id: int) -> dict:
    from ..mail.config import paths
    from ..mail.store import Store

    store = Store.for_reading(paths().database)
    try:
        decision = store.decision(decision_id)
        moves = [] if decision is None else [
            entry for entry in store.journal(decision.account)
            if (entry.message_id, entry.content_hash) ==
            (decision.message_id, decision.content_hash)]
    finally:
        store.close()
    if decision is None:
        raise InputError(f"no decision with ID {decision_id}; `gatekeeper status` lists them "
                         "beside their subjects")
    return {"account": decision.account, "sender": decision.sender,
            "subject": decision.subject, "action": decision.action,
            "probability": decision.probability, "mode": decision.mode,
            "probe": decision.probe, "queue": decision.queue,
            "decided": time.strftime("%Y-%m-%d %H:%M", time.localtime(decision.decided_at)),
            **decision.evidence,
            "moves": [f"{e.id}: {e.kind} {e.source} -> {e.target} ({e.state})" for e in moves],
            "reasons": [reason["text"] for reason in decision.reasons]}


class _ReviewSession:
    """The open account and its reviewer for one review; what was learned is committed
    when it closes (saved, or left to the running daemon)."""

    def __init__(self, account) -> None:
        from ..mail.review import Reviewer

        self.account, self.store = account, account.store
        self.reviewer = Reviewer(account.mailbox, account.brain, account.store)

    @classmethod
    def open(cls, account_name: str | None) -> _ReviewSession:
        return cls(_open_account(account_name, "review"))

    def close(self) -> None:
        try:
            if self.account.recorded():
                click.echo(describe_commit(self.account.commit()))
        finally:
            self.account.close()


REVIEW_KEYS = "[p]ass  [d]elete  [s]kip  [o]pen  [a]llow sender  [b]lock sender  [q]uit: "


def _review_interactively(session: _ReviewSession, items) -> None:
    if not items:
        click.echo("nothing is held")
        return
    done = {"passed": 0, "deleted": 0, "allowed and passed": 0, "blocked and deleted": 0,
            "skipped": 0}
    for position, item in enumerate(items, start=1):
        message = session.reviewer.message(item.id)
        click.echo(f"\n[{position}/{len(items)}] id {item.id}  from {inert(item.sender)}\n"
                   f"  subject: {inert(item.subject)}\n  P(wanted) {item.probability:.2f}")
        for reason in item.reasons:
            click.echo(f"  - {inert(reason['text'])}")
        if message is not None:
            click.echo(f"  {inert(message.snippet)}")
        outcome = _review_one(session, item, message)
        if outcome == "quit":
            break
        done[outcome] += 1
    click.echo("reviewed: " + ", ".join(f"{n} {what}" for what, n in done.items() if n or
                                         what in ("passed", "deleted", "skipped")))


def _review_one(session: _ReviewSession, item, message) -> str:
    """Ask for one key until it is a choice; do it, say what was done; the outcome."""
    folders = session.reviewer.folders
    while True:
        click.echo(REVIEW_KEYS, nl=False)
        key = click.getchar().lower()
        click.echo(key)
        if key == "o" and message is not None:
            click.echo_via_pager(inert(message.text, lines=True))  # less, when there is one
        elif key in ("p", "a"):
            if key == "a":
                session.store.add_to_list("allow", item.sender)
            done = session.reviewer.release(item.id)
            allowed = f"; {inert(item.sender)} is on the allow list" if key == "a" else ""
            click.echo(f"  passed: back in {inert(folders.inbox)}{allowed}" if done
                       else "  not found in the held folder any more")
            return ("passed" if key == "p" else "allowed and passed") if done else "skipped"
        elif key in ("d", "b"):
            if key == "b":
                session.store.add_to_list("block", item.sender)
            done = session.reviewer.discard(item.id)
            blocked = f"; {inert(item.sender)} is on the block list" if key == "b" else ""
            click.echo(f"  deleted: moved to {inert(folders.trash)} (undo brings it back)"
                       f"{blocked}" if done else "  not found in the held folder any more")
            return ("deleted" if key == "d" else "blocked and deleted") if done else "skipped"
        elif key == "s":
            return "skipped"
        elif key == "q":
            return "quit"


def running_daemon():
    """The daemon holding this home, None when none runs."""
    from ..mail.config import paths
    from ..mail.homelock import DAEMON, HomeLock

    holder = HomeLock(paths().lock_file).holder()
    return holder if holder is not None and holder.role == DAEMON else None
