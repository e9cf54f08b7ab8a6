"""The commands that try gatekeeper without an account: `score` one message, the `demo`,
and `eval` on a labelled corpus."""

from __future__ import annotations

import json
import shlex
import shutil
import sys
from pathlib import Path
from typing import Any

import click
from rich.table import Table

from ..core.message import Message, parse
from ..terminal import inert
from . import main
from .common import BarProgress, console, read_message_bytes, reports_errors

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
    from ..core.embed import embedder_for
    from ..mail.config import load_settings

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

    from ..core.embed import make_embedder
    from ..demo import run_demo, write_report

    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
    with Progress(*columns, console=console, disable=as_json) as bar:
        result = run_demo(make_embedder(), folder, messages=messages, seed=seed,
                          progress=BarProgress(bar))
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
    reader's work and a learning curve; each AUC with a 95% interval in which each
    sender's mail is resampled as one (a small corpus says how little it proves).

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
