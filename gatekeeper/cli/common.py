"""What every command group shares: the console, errors as exit codes, reading a message
from a file or standard input, progress bars and durations."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from pathlib import Path

import click

from ..errors import GatekeeperError, InputError
from ..terminal import inert, safe_console

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


def read_message_bytes(source: str) -> bytes:
    """The raw bytes of FILE, or of standard input for '-'."""
    if source == "-":
        return sys.stdin.buffer.read()
    path = Path(source)
    if not path.is_file():
        raise InputError(f"{source}: no such file; give a .eml file or '-' for standard input")
    return path.read_bytes()


class BarProgress:
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


DURATION_UNITS = {"m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def parse_duration(text: str) -> float:
    """Seconds in a duration given as 30m, 2h, 3d or 2w."""
    text = text.strip()
    if text[:-1].isdigit() and int(text[:-1]) > 0 and text[-1] in DURATION_UNITS:
        return int(text[:-1]) * DURATION_UNITS[text[-1]]
    raise InputError(f"{text!r} is not a duration: give a number and a unit, like 30m, 2h, "
                     "7d or 2w")
