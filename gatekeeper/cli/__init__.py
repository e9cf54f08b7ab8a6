"""The `gatekeeper` command: thin commands over the library, one module per command group
(`setup`, `mail`, `campaign`, `evaluation`), each with the terminal rendering of what it
shows.

This package is the only one that prints and the only one that turns a `GatekeeperError`
into a message and an exit code.
"""

from __future__ import annotations

import os

import click

from .. import __version__


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


# The command groups register their commands on `main` when imported.
from . import campaign, evaluation, mail, setup  # noqa: E402, F401
