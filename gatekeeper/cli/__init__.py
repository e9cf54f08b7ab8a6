"""The `gatekeeper` command: thin commands over the library.

This is the only module that prints and the only one that turns a `GatekeeperError` into
a message and an exit code.
"""

from __future__ import annotations

import functools
import json
import os
import shlex
import shutil
import sys
import time
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import click
from rich.table import Table
from rich.text import Text

from .. import __version__
from ..errors import GatekeeperError, InputError
from ..core.message import Message, parse
from ..core.policy import ACTIONS
from ..terminal import InertFormatter, inert, inert_data, safe_console
from ..core.vocabulary import Mode

if TYPE_CHECKING:  # the store loads only with the commands that read it
    from ..mail.store import DecisionRecord

console = safe_console()
PIPE_WIDTH = 400  # columns for tables printed into a pipe or file (see `simulate`)


def reports_errors(command: Callable) -> Callable:
    """Turn a GatekeeperError into its message on stderr and exit code 2."""

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except GatekeeperError as error:
            click.echo(f"error: {inert(error)}", err=True)
            sys.exit(2)

    return wrapper


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="gatekeeper")
def main() -> None:
    """A local-first AI gatekeeper for your inbox.

    It learns from what you do with your mail which messages you want, then passes,
    holds or deletes each new one. Nothing leaves your machine.
    """
    # Before anything is written: every file gatekeeper makes from here on (settings,
    # database, profile, status, log, service file) is its user's alone, 0600 / 0700.
    os.umask(0o077)


def read_message_bytes(source: str) -> bytes:
    """The raw bytes of FILE, or of standard input for '-'."""
    if source == "-":
        return sys.stdin.buffer.read()
    path = Path(source)
    if not path.is_file():
        raise InputError(f"{source}: no such file; give a .eml file or '-' for standard input")
    return path.read_bytes()


def message_summary(message: Message) -> dict:
    """The parsed essentials of a message, as plain data."""
    auth = message.auth_results
    return {
        "message_id": message.message_id,
        "from": f"{message.from_name} <{message.from_address}>".strip(),
        "subject": message.subject,
        "date": message.date.isoformat() if message.date else None,
        "list_id": message.list_id,
        "bulk": message.is_bulk,
        "one_click_unsubscribe": bool(message.list_unsubscribe_post),
        "auth": {"spf": auth.spf, "dkim": auth.dkim, "dmarc": auth.dmarc},
        "dkim_domains": list(message.dkim_domains),
        "links": message.link_count,
        "link_domains": list(message.link_domains),
        "images": message.image_count,
        "attachments": [a.filename for a in message.attachments],
        "size": message.size,
        "defects": list(message.defects),
        "snippet": message.snippet,
    }


def print_summary(summary: dict) -> None:
    table = Table(show_header=False, box=None, pad_edge=False)
    table.add_column(style="bold")
    table.add_column(overflow="fold")
    for key, value in summary.items():
        if isinstance(value, dict):
            value = ", ".join(f"{k}={v or '-'}" for k, v in value.items())
        elif isinstance(value, list):
            value = ", ".join(map(str, value)) or "-"
        table.add_row(key.replace("_", " "), "-" if value in (None, "") else inert(value))
    console.print(table)


@main.command()
@click.argument("source", metavar="FILE.eml|-")
@click.option("--max-length", type=click.IntRange(8, 512), default=256, show_default=True,
              help="Tokens of the message the model reads (128 is the fast setting).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@reports_errors
def score(source: str, max_length: int, as_json: bool) -> None:
    """Parse one message and embed it: a first end-to-end check.

    Prints the parsed essentials, the model that embedded the message and the vector's
    norm (1.0 for a healthy model).

    Example: gatekeeper score message.eml
    """
    from ..mail.config import load_settings
    from ..core.embed import embedder_for

    message = parse(read_message_bytes(source))
    embedder = embedder_for(load_settings(), max_length=max_length, threads=1)
    vector = embedder.embed(message.text_for_embedding())
    summary = message_summary(message)
    summary["model"] = embedder.model_id
    summary["embedding_norm"] = round(float((vector**2).sum() ** 0.5), 6)
    summary["embedding_head"] = [round(float(x), 4) for x in vector[:4]]
    if as_json:
        click.echo(json.dumps(summary, indent=2))  # ASCII: \u escapes, inert
    else:
        print_summary(summary)


def bundled_examples() -> list[tuple[str, bytes]]:
    """The example messages shipped with the package (written by us), sorted by name."""
    folder = resources.files("gatekeeper.campaign") / "examples"
    entries = sorted(
        (entry for entry in folder.iterdir() if entry.name.endswith(".eml")),
        key=lambda entry: entry.name,
    )
    return [(entry.name, entry.read_bytes()) for entry in entries]


@main.command()
@click.option("--dir", "folder", type=click.Path(file_okay=False, path_type=Path),
              help="Folder for the demo's Maildir and private gatekeeper home "
                   "(default: a new temporary folder). Never your own settings or mail.")
@click.option("--messages", type=click.IntRange(60, 5000), default=400, show_default=True,
              help="Messages in the demo inbox, spread over five simulated weeks.")
@click.option("--seed", type=int, default=1, show_default=True,
              help="Another seed writes another inbox and another reader's whims.")
@click.option("--html", "html_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the HTML report here (default: report.html in the demo folder).")
@click.option("--json", "as_json", is_flag=True, help="Print the results as JSON.")
@reports_errors
def demo(folder: Path | None, messages: int, seed: int, html_path: Path | None,
         as_json: bool) -> None:
    """Run the whole gatekeeper on an inbox we write, with no account and no server.

    Writes five weeks of realistic mail for a made-up reader into a local Maildir,
    learns from the first three weeks as the reader left them, then decides the last two
    weeks' mail a day at a time in active mode while the simulated reader reads,
    replies, deletes and rescues mail from the held folder, and gatekeeper learns from
    it. Prints what it got right and what it learned, and writes an HTML report.

    Example: gatekeeper demo --messages 300 --html demo.html
    """
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from ..demo import run_demo, write_report
    from ..core.embed import make_embedder

    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
    with Progress(*columns, console=console, disable=as_json) as bar:
        result = run_demo(make_embedder(), folder, messages=messages, seed=seed,
                          progress=_BarProgress(bar))
    report = write_report(result, html_path or result.folder / "report.html")
    if as_json:
        click.echo(json.dumps(result.to_dict() | {"report": str(report)}, indent=2))
        return
    table = Table("verdict", "messages", "right", "wrong", title=(
        f"{result.persona.name}'s new mail, {len(result.by_day())} days, decided in active mode"))
    for verdict, count, right, wrong in result.summary_rows():
        table.add_row(verdict, str(count), right, wrong)
    console.print(table)
    for line in result.learning_lines():
        click.echo(line)
    click.echo(f"wanted mail deleted: {result.wanted_deleted}; unwanted mail held or deleted: "
               f"{result.unwanted_removed:.0%}; took {result.seconds:.0f} s\n"
               f"report: {report}\n"
               f"look around: GATEKEEPER_HOME={shlex.quote(str(result.home))} "
               f"{invocation()} status")


def invocation() -> str:
    """How the person who ran this can run gatekeeper again from the same shell: the
    bare name when it is on their PATH, else this installation's script (`.venv/bin/
    gatekeeper` after the quick start), else this Python with `-m`."""
    script = Path(sys.executable).parent / "gatekeeper"
    found = shutil.which("gatekeeper")
    if found and Path(found).resolve() == script.resolve():
        return "gatekeeper"
    if not script.exists():
        return f"{shlex.quote(sys.executable)} -m gatekeeper"
    try:
        return shlex.quote(str(script.relative_to(Path.cwd())))
    except ValueError:  # not below the working directory
        return shlex.quote(str(script))


class _BarProgress:
    """Progress reports (the demo's, training's) on a rich progress bar, one stage at a
    time, each counted against its own total."""

    def __init__(self, bar, prefix: str = "") -> None:
        self.bar = bar
        self.prefix = prefix
        self.task = bar.add_task(f"{prefix}starting", total=None)

    def stage(self, description: str, total: int) -> None:
        self.bar.reset(self.task, description=self.prefix + description, total=total)

    def advance(self, amount: int) -> None:
        self.bar.advance(self.task, amount)


@main.command(name="eval")
@click.argument("corpus_path", metavar="PATH", type=click.Path(exists=True, path_type=Path))
@click.option("--format", "kind", default="folders", show_default=True,
              type=click.Choice(["folders", "mbox", "spamassassin", "20news"]),
              help="folders: one subfolder per label; mbox: with --labels; or a known layout.")
@click.option("--labels", type=click.Path(exists=True, path_type=Path),
              help="CSV of message_id,label for an mbox.")
@click.option("--wanted", multiple=True, help="Folder names (or 20news groups) that are wanted.")
@click.option("--unwanted", multiple=True, help="Folder names that are unwanted.")
@click.option("--interest", multiple=True, help="A plain-language interest (repeatable).")
@click.option("--disinterest", multiple=True, help="A plain-language disinterest (repeatable).")
@click.option("--time-cut", type=click.FloatRange(0.05, 0.95), default=0.5, show_default=True,
              help="Earlier share of the mail the time split learns from; the rest is decided.")
@click.option("--role", "roles", type=click.Choice(["reporting", "tuning"]), multiple=True,
              default=("reporting",), show_default=True,
              help="Which senders' mail is decided: reporting (never used to choose settings) "
                   "or tuning (use it when adjusting settings); repeat for both.")
@click.option("--later", "later_path", type=click.Path(exists=True, path_type=Path),
              help="A later corpus in the same format: learn all of PATH, then decide this one "
                   "(batch, prequential and the baselines) instead of the splits.")
@click.option("--baselines/--no-baselines", default=True, show_default=True,
              help="Run naive Bayes, bogofilter, SpamAssassin and rspamd side by side when "
                   "installed.")
@click.option("--out", type=click.Path(path_type=Path), help="Write JSON, Markdown and a PNG here.")
@click.option("--json", "as_json", is_flag=True, help="Print the full results as JSON.")
@reports_errors
def evaluate(corpus_path: Path, kind: str, labels: Path | None, wanted: tuple[str, ...],
             unwanted: tuple[str, ...], interest: tuple[str, ...], disinterest: tuple[str, ...],
             time_cut: float, roles: tuple[str, ...], later_path: Path | None, baselines: bool,
             out: Path | None, as_json: bool) -> None:
    """Measure how well gatekeeper sorts a labelled corpus, beside other filters.

    The senders are cut into two halves that share no domain: settings are tuned on the
    tuning half and figures reported on the other. On each, the mail is replayed through
    the real parse, embed, score and decide code: mail from senders never seen (sender
    split) and later mail (time split) is decided after learning the rest as the
    reader's history (batch) or only from a simulated reader's reactions (online); the
    later mail is also decided as a stream while the reader reacts (prequential).
    Reports AUC, wanted mail lost and held, unwanted mail removed, calibration, the
    reader's work and a learning curve.

    Example: gatekeeper eval ~/mail/labelled --wanted inbox --unwanted junk
    """
    from ..evaluation import quality

    options: dict[str, Any] = dict(kind=kind, labels=labels, wanted=wanted, unwanted=unwanted,
                                   interests=interest, disinterests=disinterest,
                                   time_cut=time_cut)
    task = quality.task_from_path(corpus_path, **options)
    later = quality.task_from_path(later_path, **options) if later_path else None
    with console.status(f"evaluating {len(task.messages)} messages"):
        report = quality.run_later(task, later, out, with_baselines=baselines) if later else \
            quality.run_tasks([task], out, with_baselines=baselines, roles=roles)
    if as_json:
        click.echo(json.dumps(report.results, indent=2))
    else:
        console.print(report.markdown)


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
    daemon["running"] = _running_daemon() is not None
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
    running = _running_daemon()
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


DURATION_UNITS = {"m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def parse_duration(text: str) -> float:
    """Seconds in a duration given as 30m, 2h, 3d or 2w."""
    text = text.strip()
    if text[:-1].isdigit() and int(text[:-1]) > 0 and text[-1] in DURATION_UNITS:
        return int(text[:-1]) * DURATION_UNITS[text[-1]]
    raise InputError(f"{text!r} is not a duration: give a number and a unit, like 30m, 2h, "
                     "7d or 2w")


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
    from ..mail import onboarding
    from ..mail.credentials import NO_KEYRING, OTHER_ROUTES, keyring_backend, store_password
    from ..mail.discovery import find_server
    from ..errors import CredentialsError, MailboxError

    at_terminal = sys.stdin.isatty()
    address = (address or click.prompt("Your email address")).strip()
    server = find_server(address)
    if at_terminal:
        from ..mail import setup_dialogue as dialogue

        account = dialogue.ask_server(address, server, given)
        needs_password = account.auth == "password" and not (account.password_env
                                                             or account.password_command)
        route = (dialogue.ask_password_route(account) if needs_password
                 else dialogue.PasswordRoute(account))
    else:
        account = onboarding.account_for_address(address, server, **given)
        if server.note and not given["host"]:
            click.echo(f"note: {server.note}")
        click.echo(f"server: {inert(account.host)}:{account.port} ({account.security}), "
                   f"{server.found_by if not given['host'] else 'as given'}; "
                   f"login {inert(account.username)}, auth {account.auth}")
        if (account.auth == "password" and not (account.password_env or account.password_command)
                and keyring_backend() is None):
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
    1,000 messages (well within a minute), then older mail is learned a stage at a time.
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

    from ..mail.account import Account
    from ..mail.config import load_settings, paths
    from ..core.embed import embedder_for
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
                    progress=_BarProgress(bar, f"{config.name}: "), learned=usable)
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
    from ..mail.account import Account
    from ..core.embed import embedder_for

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


@main.group()
def interests() -> None:
    """Say in plain words what you want and do not want in your mail.

    Used from the first minute (before gatekeeper has seen you read anything) and weighed
    down as your behaviour teaches it more, never turned around. A running daemon
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


def _running_daemon():
    """The daemon holding this home, None when none runs."""
    from ..mail.config import paths
    from ..mail.homelock import DAEMON, HomeLock

    holder = HomeLock(paths().lock_file).holder()
    return holder if holder is not None and holder.role == DAEMON else None


def _daemon_applies_settings() -> str:
    """When a daemon runs: wait until each of its accounts has applied the settings file
    as it is now, and say so."""
    from ..mail.config import paths, settings_file_state

    daemon = _running_daemon()
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


@main.command()
@click.argument("campaigns", nargs=-1, required=True, metavar="CAMPAIGN.eml [VARIANT.eml]...",
                type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--audience", "audience_file", type=click.Path(dir_okay=False, path_type=Path),
              help="Personas as YAML or CSV (default: the built-in audience of 16+ personas).")
@click.option("--recipients", type=click.IntRange(1, 10_000_000), default=10_000,
              show_default=True, help="Recipients to sample around the personas.")
@click.option("--sends", type=click.IntRange(1, 100), default=1, show_default=True,
              help="Send the campaign this many times, as a series.")
@click.option("--every", default="7d", show_default=True,
              help="Time between sends of a series: 12h, 7d, 2w.")
@click.option("--seed", type=int, default=0, show_default=True, help="Sampling seed.")
@click.option("--subject", help="Subject, for an HTML campaign (a file without mail headers).")
@click.option("--from", "sender", help="From address, for an HTML campaign.")
@click.option("--complaint-rate", type=click.FloatRange(0, 1), metavar="RATE",
              help="Your spam-complaint rate lately (0.001 = 0.1%), from your provider's "
                   "postmaster tools: counted in the placement forecast.")
@click.option("--usual-volume", type=click.IntRange(1, None), metavar="N",
              help="Messages a day you usually send: --recipients far above it is a volume "
                   "spike, a risk of its own.")
@click.option("--dormant-share", type=click.FloatRange(0, 1), default=0.0, metavar="SHARE",
              help="Share of your list with no opens or clicks for 12 months (0-1).")
@click.option("--dns", "check_dns", is_flag=True,
              help="Also look up the From domain's SPF and DMARC records (needs network); "
                   "the forecast counts what it finds.")
@click.option("--json", "as_json", is_flag=True, help="Print the results as JSON.")
@click.option("--html", "html_file", type=click.Path(dir_okay=False, path_type=Path),
              help="Write an HTML report with charts here.")
@click.option("--fail-under", type=click.FloatRange(0, 1), metavar="RATE",
              help="Exit with code 1 when the first campaign's pass rate is below RATE (0-1).")
@reports_errors
def simulate(campaigns: tuple[Path, ...], audience_file: Path | None, recipients: int,
             sends: int, every: str, seed: int, subject: str | None, sender: str | None,
             complaint_rate: float | None, usual_volume: int | None, dormant_share: float,
             check_dns: bool, as_json: bool, html_file: Path | None,
             fail_under: float | None) -> None:
    """Where would this campaign land, and would people's AI gatekeepers let it through?

    Answers two questions. Placement: the chance a large mailbox provider puts it in the
    primary inbox, a promotions tab or spam, from a documented points model of what
    Gmail, Yahoo and Microsoft publish that they check (authentication, one-click
    unsubscribe, complaint rate, volume, promotional or transactional content, message
    build), with the changes that would help most, each forecast again with the change
    made. Relevance: recipients sampled around an audience of personas, each with a
    profile built the way the gatekeeper builds one and decided by its policy: pass /
    hold / delete per segment with 95% intervals, and the sentences that help or hurt.

    With --sends, the series: complaint and unsubscribe rates per send against the 0.08%,
    0.2% and 0.3% marks providers hold senders to, and recipients gone quiet for 12
    months. Several files rank variants (A/B/n) on the same recipients and say when a
    gap is within noise. The pass rate (the share passed by gatekeepers, averaged over
    the sends) is what --fail-under checks.

    A file with mail headers is a message (.eml); one without them that is HTML is an
    HTML campaign and needs --subject and --from; anything else is refused.

    Example: gatekeeper simulate launch.eml launch-b.eml --sends 6 --html report.html
    """
    from ..campaign.audience import load_audience
    from ..campaign.campaign_report import html_report, terminal_report
    from ..mail.config import paths
    from ..core.embed import OnnxEmbedder
    from ..campaign.lint import lint_dns
    from ..campaign.placement import SenderFacts
    from ..campaign.simulate import load_campaign, simulate as run_simulation

    every_days = parse_duration(every) / 86400.0
    loaded = [load_campaign(path, subject, sender) for path in campaigns]
    audience = load_audience(audience_file)
    for campaign in loaded:  # loud, before any result, on stderr so --json stays clean
        for warning in campaign.warnings:
            click.secho(f"WARNING {inert(campaign.name)}: {inert(warning)}", err=True,
                        fg="red", bold=True)
    dns_findings = ([lint_dns(campaign.message.from_domain) for campaign in loaded]
                    if check_dns else None)
    with console.status(f"simulating {recipients:,} recipients"):
        report = run_simulation(loaded, audience, OnnxEmbedder(), recipients=recipients,
                                sends=sends, every_days=every_days, seed=seed,
                                cache_dir=paths().data / "cache" / "personas",
                                facts=SenderFacts(complaint_rate=complaint_rate,
                                                  usual_volume=usual_volume),
                                dormant_share=dormant_share, dns_findings=dns_findings)
    data = report.to_dict()
    if html_file:
        html_file.write_text(html_report(data), encoding="utf-8")
    if as_json:
        click.echo(json.dumps(data, indent=2))
    else:
        # In a pipe there is no screen to fit: a width no line reaches, so no word is
        # ever broken across lines (a terminal wraps at spaces at its own width).
        out = console if console.is_terminal else safe_console(PIPE_WIDTH)
        for part in terminal_report(cast(dict, inert_data(data))):
            out.print(part)
        if html_file:
            out.print(f"Report written to {html_file}")
    if fail_under is not None and report.pass_rate(0) < fail_under:
        click.echo(f"pass rate {report.pass_rate(0):.1%} is under {fail_under:.1%}", err=True)
        sys.exit(1)
