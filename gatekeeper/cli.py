"""The `gatekeeper` command: thin commands over the library.

This is the only module that prints and the only one that turns a `GatekeeperError` into
a message and an exit code.
"""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable
from importlib import resources
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from . import __version__
from .errors import GatekeeperError, InputError
from .message import Message, parse

console = Console()


def reports_errors(command: Callable) -> Callable:
    """Turn a GatekeeperError into its message on stderr and exit code 2."""

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except GatekeeperError as error:
            click.echo(f"error: {error}", err=True)
            sys.exit(2)

    return wrapper


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="gatekeeper")
def main() -> None:
    """A local-first AI gatekeeper for your inbox.

    It learns from what you do with your mail which messages you want, then passes,
    holds or deletes each new one. Nothing leaves your machine.
    """


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
        table.add_row(key.replace("_", " "), "-" if value in (None, "") else str(value))
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
    from .embed import OnnxEmbedder

    message = parse(read_message_bytes(source))
    embedder = OnnxEmbedder(max_length=max_length)
    vector = embedder.embed(message.text_for_embedding())
    summary = message_summary(message)
    summary["model"] = embedder.model_id
    summary["embedding_norm"] = round(float((vector**2).sum() ** 0.5), 6)
    summary["embedding_head"] = [round(float(x), 4) for x in vector[:4]]
    if as_json:
        click.echo(json.dumps(summary, indent=2, ensure_ascii=False))
    else:
        print_summary(summary)


def bundled_examples() -> list[tuple[str, bytes]]:
    """The example messages shipped with the package (written by us), sorted by name."""
    folder = resources.files("gatekeeper") / "examples"
    entries = sorted(
        (entry for entry in folder.iterdir() if entry.name.endswith(".eml")),
        key=lambda entry: entry.name,
    )
    return [(entry.name, entry.read_bytes()) for entry in entries]


@main.command()
@reports_errors
def demo() -> None:
    """Run gatekeeper on its bundled example messages, with no account and no server.

    Parses and embeds each example and shows what the gatekeeper sees in it: sender,
    bulk markers, authentication verdicts, links, and how close the messages are in
    meaning to each other.

    Example: gatekeeper demo
    """
    from .embed import OnnxEmbedder

    examples = bundled_examples()
    messages = [parse(raw) for _, raw in examples]
    embedder = OnnxEmbedder()
    vectors = embedder.embed_many([m.text_for_embedding() for m in messages])
    table = Table(title=f"{len(messages)} example messages, embedded with {embedder.model_id}")
    for column in ("file", "from", "subject", "bulk", "auth (spf/dkim/dmarc)", "links",
                   "closest in meaning"):
        table.add_column(column, overflow="fold")
    similarity = vectors @ vectors.T
    for index, (message, (name, _)) in enumerate(zip(messages, examples, strict=True)):
        similarity[index, index] = -1.0
        nearest = int(similarity[index].argmax())
        auth = message.auth_results
        table.add_row(
            name, message.from_address, message.subject, "yes" if message.is_bulk else "no",
            "/".join(v or "-" for v in (auth.spf, auth.dkim, auth.dmarc)),
            str(message.link_count), f"{examples[nearest][0]} ({similarity[index, nearest]:.2f})",
        )
    console.print(table)


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
@click.option("--train-share", type=click.FloatRange(0.05, 0.95), default=0.5, show_default=True,
              help="Earlier share of the mail learned from; the rest is decided.")
@click.option("--baselines/--no-baselines", default=True, show_default=True,
              help="Run naive Bayes, bogofilter and SpamAssassin side by side when installed.")
@click.option("--out", type=click.Path(path_type=Path), help="Write JSON, Markdown and a PNG here.")
@click.option("--json", "as_json", is_flag=True, help="Print the full results as JSON.")
@reports_errors
def evaluate(corpus_path: Path, kind: str, labels: Path | None, wanted: tuple[str, ...],
             unwanted: tuple[str, ...], interest: tuple[str, ...], disinterest: tuple[str, ...],
             train_share: float, baselines: bool, out: Path | None, as_json: bool) -> None:
    """Measure how well gatekeeper sorts a labelled corpus, beside other filters.

    Replays the mail in order through the real parse, embed, score and decide code:
    learning from the earlier part (batch), and learning only from a simulated reader's
    reactions (online), then reports AUC, wanted mail lost and held, unwanted mail
    removed, calibration and a learning curve.

    Example: gatekeeper eval ~/mail/labelled --wanted inbox --unwanted junk
    """
    from . import quality

    task = quality.task_from_path(corpus_path, kind, labels=labels, wanted=wanted,
                                  unwanted=unwanted, interests=interest,
                                  disinterests=disinterest, train_share=train_share)
    with console.status(f"evaluating {len(task.messages)} messages"):
        report = quality.run_tasks([task], out, with_baselines=baselines)
    if as_json:
        click.echo(json.dumps(report.results, indent=2))
    else:
        console.print(report.markdown)
