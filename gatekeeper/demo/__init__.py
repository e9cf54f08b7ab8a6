"""`gatekeeper demo`: the whole product on an inbox we write ourselves, no account needed.

- `cast`: who writes to the reader, and the templates of their mail; `words`: their slots;
- `persona`: the reader, their stated interests, and how they treat their mail;
- `inbox`: several weeks of realistic RFC 5322 mail, deterministic for a seed;
- `mailclient`: the reader's mail program on the Maildir (standard library only);
- `run`: train on the earlier weeks, then decide, react and learn day by day;
- `outcome`: what the run did against what the reader wanted; `report`: the HTML page.
"""

from .inbox import DemoInbox, DemoMail, generate_inbox
from .outcome import DecidedMail, DemoResult
from .report import write_report
from .run import run_demo

__all__ = ["DecidedMail", "DemoInbox", "DemoMail", "DemoResult", "generate_inbox",
           "run_demo", "write_report"]
