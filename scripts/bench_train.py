#!/usr/bin/env python3
"""Benchmark `gatekeeper train` on a large mailbox: how soon is the profile usable?

Fills a private Dovecot on 127.0.0.1 with --messages of real mail (SpamAssassin corpus,
cycled: one in fifty as sent mail, one in three unread in Trash, the rest read in the
inbox), then runs the
real `gatekeeper train` (real model, default settings) as a subprocess and measures:
- usable_s: seconds from start to the first saved profile (the newest mail learned);
- whole_s: seconds to the end of training (everything learned, report printed);
- messages_per_s: messages learned per second over the whole run.
Generated mail stands in when ../shared/corpora has no SpamAssassin archive.

    .venv/bin/python scripts/bench_train.py [--messages 10000] [--json FILE]
        [--checkout PATH]   # another checkout's gatekeeper, for a before figure
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
sys.path.insert(0, str(ROOT / "tests"))  # the private Dovecot of the test suite

import dovecot  # noqa: E402
from bench_daemon import Figures, sample_mail, write_config  # noqa: E402
from reader import PASSWORD, Reader  # noqa: E402

USABLE = re.compile(r"learned the newest (\d+) of (\d+) messages")
# Runs `gatekeeper` from the checkout given first, ahead of this installation's (an
# editable install's import hook would otherwise win over sys.path).
FROM_CHECKOUT = """import runpy, sys
sys.meta_path[:] = [f for f in sys.meta_path if "editable" not in repr(f).lower()]
sys.path.insert(0, sys.argv.pop(1))
sys.argv[0] = "gatekeeper"
runpy.run_module("gatekeeper", run_name="__main__", alter_sys=True)
"""


def fill(reader: Reader, mail: list[bytes]) -> None:
    """Every 50th sent, every 3rd unread in Trash, the rest read in the inbox."""
    for n, raw in enumerate(mail):
        if n % 50 == 0:
            reader.deliver(raw, "Sent", flags=("\\Seen",))
        elif n % 3 == 0:
            reader.deliver(raw, "Trash")
        else:
            reader.deliver(raw, flags=("\\Seen",))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--corpus-dir", type=Path, default=ROOT.parent / "shared" / "corpora")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument("--checkout", type=Path,
                        help="train with the gatekeeper of this checkout (a before figure)")
    args = parser.parse_args()
    gatekeeper = [sys.executable, "-c", FROM_CHECKOUT, str(args.checkout.resolve())] \
        if args.checkout else [sys.executable, "-m", "gatekeeper"]

    mail = sample_mail(args.messages, args.corpus_dir)
    server = dovecot.new_server({"alice": PASSWORD})
    home = Path(tempfile.mkdtemp(prefix="gk-bench-train-"))
    figures = Figures()
    try:
        write_config(home, server)
        reader = Reader(server)
        for folder in ("Sent", "Trash"):
            if folder not in reader.folders():
                reader.client.create_folder(folder)
        started = time.monotonic()
        fill(reader, mail)
        reader.close()
        figures["messages"] = len(mail)
        figures["fill_s"] = time.monotonic() - started
        env = dict(os.environ, GATEKEEPER_HOME=str(home), GK_BENCH_PASSWORD=PASSWORD,
                   COLUMNS="200")
        started = time.monotonic()
        train = subprocess.Popen([*gatekeeper, "train", "--days", "3650"],
                                 env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                 text=True)
        output = []
        for line in train.stdout:
            output.append(line)
            found = USABLE.search(line)
            if found and "usable_s" not in figures:
                figures["usable_s"] = time.monotonic() - started
                figures["usable_after_messages"] = int(found[1])
                figures["history_messages"] = int(found[2])
        if train.wait() != 0:
            print("".join(output[-20:]), file=sys.stderr)
            return 1
        figures["whole_s"] = time.monotonic() - started
        learned = figures.get("history_messages")
        if learned is None:  # one stage: usable only at the end
            found = re.search(r"learned from (\d+)", "".join(output))
            learned = int(found[1]) if found else len(mail)
            figures["usable_s"] = figures["whole_s"]
        figures["messages_per_s"] = learned / figures["whole_s"]
    finally:
        dovecot.remove_server(server)
        shutil.rmtree(home, ignore_errors=True)
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
