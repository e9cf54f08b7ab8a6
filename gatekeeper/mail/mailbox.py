"""Mailboxes: the one protocol the pipeline talks to, over IMAP or a local Maildir.

`ImapMailbox` is the only importer of imapclient. It reads with BODY.PEEK only (looking
never marks a message read), moves with UID MOVE or, without MOVE, with COPY + \\Deleted
+ UID EXPUNGE of exactly that UID (never a bare EXPUNGE), and waits with IDLE, renewed
well inside the servers' 30-minute limit. `MaildirMailbox` implements the same protocol
over a Maildir tree (mbsync and offlineimap users, and the fast test double).

The protocol speaks no IMAP: a message is a `MessageRef`, text only its backend reads,
and how far a folder was read is a cursor, also the backend's own text. Both backends
here write IMAP's numbers into them (ref "{uidvalidity}:{uid}", cursor
"{uidvalidity}:{last_uid}:{modseq}"); another backend (JMAP, a web API) writes its own.

Each kind of mailbox is registered once in `BACKENDS`: its settings section (the
account's `[accounts.<kind>]` table) and how to open it. `open_mailbox` and the settings
file read that registry, so a new backend is a class, its settings and one entry there.
"""

from __future__ import annotations

import json
import logging
import mailbox as stdlib_mailbox
import re
import socket
import ssl
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, NewType, Protocol

from ..core.message import MAX_HEADER_BYTES, parse
from ..core.vocabulary import ANSWERED, DELETED, FLAGGED, SEEN
from ..errors import (AuthenticationError, ConnectionLostError, FolderMissingError,
                     InsecureConnectionError, MailboxError, ProtocolError, Remedy)

if TYPE_CHECKING:  # config reads BACKENDS: at run time it imports this module, not back
    from .config import AccountConfig

logger = logging.getLogger(__name__)

RECENT = "\\Recent"
# What a SEARCH may carry of a Message-ID: characters of an IMAP atom, which imapclient
# sends as they are (no quoting, no literal, no charset), at a length any server takes.
_ATOM_RUN = re.compile(r"[A-Za-z0-9!#$&'+,./:;<=>?@^_`|~-]+")
SEARCH_NEEDLE_CHARS = 200
# A Message-ID header of the usual shape, which `parse` would read as this group: read so
# directly, ten times faster, for the thousands of headers a look at a big inbox reads.
_PLAIN_MESSAGE_ID = re.compile(rb"(?i)message-id:[ \t]*<([!-;=?-~]+)>[ \t]*(?:\r?\n)*")
# Of each Message-ID header read back in bulk; real ones take under 100. `find` reads a
# longer one (hostile: past the 998-octet line limit) as far as its own length needs.
MESSAGE_ID_BYTES = 4096
FETCH_CHUNK = 2000  # UIDs per FETCH command: about 14 KB of command line
IDLE_RENEW_SECONDS = 9 * 60
IDLE_CHECK_SECONDS = 1.0  # how often an IDLE wait looks at its stop flag  # servers may drop an IDLE after 10 to 30 minutes
SPECIAL_USES = {"trash": "\\Trash", "junk": "\\Junk", "sent": "\\Sent", "archive": "\\Archive"}
FALLBACK_NAMES = {
    "trash": ("Trash", "Deleted Items", "Deleted Messages", "[Gmail]/Trash", "INBOX.Trash"),
    "junk": ("Junk", "Spam", "Junk E-mail", "[Gmail]/Spam", "INBOX.Junk"),
    "sent": ("Sent", "Sent Items", "Sent Messages", "[Gmail]/Sent Mail", "INBOX.Sent"),
    "archive": ("Archive", "Archives", "[Gmail]/All Mail", "INBOX.Archive"),
}


SECURITY = ("tls", "starttls", "plain")
AUTH = ("password", "oauth2")


@dataclass(frozen=True)
class ImapSettings:
    """An IMAP account's `[accounts.imap]` section: the server and the login."""

    host: str = ""
    port: int = 993
    username: str = ""
    security: str = "tls"  # tls (IMAPS), starttls, or plain (loopback only)
    ca_file: str = ""  # extra CA bundle to trust (self-signed servers)
    auth: str = "password"  # password or oauth2
    password_env: str = ""  # read the password from this environment variable
    password_command: str = ""  # or run this command and read its output
    oauth_token_command: str = ""  # prints a current OAuth2 access token
    oauth_mechanism: str = "XOAUTH2"  # or OAUTHBEARER
    idle: bool = True  # use IDLE when the server offers it
    timeout_seconds: int = 60

    def problems(self) -> list[str]:
        checks = [
            (self.security in SECURITY, f"security must be one of {', '.join(SECURITY)}"),
            (self.auth in AUTH, f"auth must be one of {', '.join(AUTH)}"),
            (bool(self.host and self.username), "an imap account needs host and username"),
            (self.auth != "oauth2" or bool(self.oauth_token_command),
             "oauth2 needs oauth_token_command"),
        ]
        return [problem for ok, problem in checks if not ok]

    def where(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def password_from_keyring(self) -> bool:
        """A password login with no other route named: the password sits in the keyring."""
        return self.auth == "password" and not (self.password_env or self.password_command)


@dataclass(frozen=True)
class MaildirSettings:
    """A Maildir account's `[accounts.maildir]` section: where the tree is."""

    path: str = ""  # the Maildir root (its INBOX), e.g. "~/Mail"

    def problems(self) -> list[str]:
        return [] if self.path else ["a maildir account needs path"]

    def where(self) -> str:
        return self.path


MessageRef = NewType("MessageRef", str)
"""A message in one folder, as its backend names it: opaque to callers, stable while the
message stays there, never given to another message of that folder."""


@dataclass(frozen=True)
class Fetched:
    """A message as fetched: its reference, its first bytes, its flags, when it arrived."""

    ref: MessageRef
    raw: bytes
    flags: frozenset[str]
    arrived: float = 0.0  # the server's arrival time (IMAP INTERNALDATE), 0 when unknown
    cursor: str = ""  # from `fetch_new`: the folder's cursor once this message is decided


@dataclass(frozen=True)
class NewMail:
    """What `fetch_new` found: messages in arrival order and the folder's cursor after
    them (to save when there are none). `restarted`: the backend could not go on from the
    cursor it was given (IMAP: a new UIDVALIDITY) and started the folder over, so what it
    gives may include mail decided or seen before."""

    messages: list[Fetched]
    cursor: str
    restarted: bool = False


@dataclass(frozen=True)
class Folders:
    """The folders the gatekeeper uses, as named on this server ("" when absent)."""

    inbox: str
    held: str
    trash: str
    junk: str = ""
    sent: str = ""
    archive: str = ""


class Mailbox(Protocol):
    """What the pipeline, the feedback observer and the CLI need from a mailbox."""

    account: str

    def folders(self, refresh: bool = False) -> Folders: ...
    # A cursor is a backend's own text for how far a folder was read ("": not at all).
    def fetch_new(self, folder: str, cursor: str, limit: int) -> NewMail: ...
    def cursor_at_end(self, folder: str) -> str: ...  # past everything there now
    def fetch(self, folder: str, refs: Iterable[MessageRef]) -> list[Fetched]: ...
    def flags(self, folder: str,
              refs: Iterable[MessageRef]) -> dict[MessageRef, frozenset[str]]: ...
    # The flags of those of `refs` changed since `cursor` (at least), and a new cursor.
    def changes(self, folder: str, refs: Iterable[MessageRef],
                cursor: str) -> tuple[dict[MessageRef, frozenset[str]], str]: ...
    def refs(self, folder: str) -> list[MessageRef]: ...  # in arrival order
    def refs_since(self, folder: str, since: date) -> list[MessageRef]: ...
    def find(self, folder: str, message_id: str,
             content_hash: str = "") -> MessageRef | None: ...
    def message_ids(self, folder: str, refs: Iterable[MessageRef]) -> dict[MessageRef, str]: ...
    def move(self, folder: str, ref: MessageRef, target: str) -> MessageRef | None: ...
    def tag(self, folder: str, ref: MessageRef, keyword: str) -> None: ...
    def append(self, folder: str, raw: bytes, flags: Iterable[str] = ()) -> None: ...
    def wait(self, folder: str, timeout: float, stop: Callable[[], bool] = ...) -> bool: ...
    def close(self) -> None: ...


# -- references and cursors of the UID backends (IMAP, and Maildir's side file) ------------
# A ref is "{uidvalidity}:{uid}": a ref of another UIDVALIDITY names nothing here. One
# with no validity (":{uid}", a journal entry from before refs) means a UID of the current
# one; callers use those only after checking the content is the same message.
@dataclass(frozen=True)
class _Position:
    """How far a folder was read: the text of a cursor, "{uidvalidity}:{last_uid}:{modseq}"."""

    validity: int
    last_uid: int = 0
    modseq: int = 0  # HIGHESTMODSEQ when it was written; 0 without CONDSTORE

    def __str__(self) -> str:
        return f"{self.validity}:{self.last_uid}:{self.modseq}"

    @classmethod
    def read(cls, cursor: str, validity: int) -> _Position | None:
        """The cursor's position in a folder of this UIDVALIDITY; None when it is "", of
        another UIDVALIDITY, or not a cursor of these backends."""
        parts = cursor.split(":")
        if len(parts) != 3 or not all(part.isascii() and part.isdigit() for part in parts):
            return None
        position = cls(*map(int, parts))
        return position if position.validity == validity else None


def _ref(validity: int, uid: int) -> MessageRef:
    return MessageRef(f"{validity}:{uid}")


def _uid_in(ref: str, validity: int, migrated: bool = False) -> int | None:
    """The UID `ref` names in a folder of this UIDVALIDITY, None when it names none. A ref
    with no validity (":{uid}", a journal entry from before refs) names one only when
    `migrated` ones are asked for: by `fetch`, whose caller checks the content before
    using it, never by a call that changes a message."""
    given, _, uid = ref.partition(":")
    known = (str(validity), "") if migrated else (str(validity),)
    if given not in known or not (uid.isascii() and uid.isdigit()):
        return None
    return int(uid)


def _resume(cursor: str, validity: int) -> tuple[int, bool]:
    """(the last UID `cursor` had read in a folder of this UIDVALIDITY, whether the
    folder must be read again from its start: a cursor of another UIDVALIDITY)."""
    position = _Position.read(cursor, validity)
    return (position.last_uid, False) if position else (0, cursor != "")


def _new_mail(fetched: list[Fetched], validity: int, last_uid: int, modseq: int,
              restarted: bool) -> NewMail:
    """`fetch_new`'s answer: each message with the cursor just past it."""
    messages = [replace(item, cursor=str(_Position(validity, _uid_in(item.ref, validity) or 0,
                                                   modseq))) for item in fetched]
    cursor = messages[-1].cursor if messages else str(_Position(validity, last_uid, modseq))
    return NewMail(messages, cursor, restarted)


# -- IMAP --------------------------------------------------------------------------------
def _text(value: bytes | str) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else value


def _flags(flags: Iterable[bytes | str]) -> frozenset[str]:
    """A message's flags without \\Recent, which belongs to one session, not the message."""
    return frozenset(_text(f) for f in flags) - {RECENT}


@dataclass(frozen=True)
class _FolderStatus:
    """A selected IMAP folder's identity and high-water marks."""

    uidvalidity: int
    uidnext: int  # 0 when the server did not say
    highest_modseq: int  # 0 when the server has no CONDSTORE


class ImapMailbox:
    """A mailbox on an IMAP server."""

    def __init__(self, config: AccountConfig, secret: str) -> None:
        self.account = config.name
        self.config = config
        self.server = config.section(ImapSettings)
        self._secret = secret
        self._client: Any = None  # an IMAPClient when connected (imapclient ships no types)
        self._selected: str | None = None
        self._validity = 0  # the selected folder's UIDVALIDITY
        self._folders: Folders | None = None
        self.connect()

    # -- connection -------------------------------------------------------------------
    def _tls_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context()
        if self.server.ca_file:
            context.load_verify_locations(self.server.ca_file)
        return context

    def connect(self) -> None:
        import imapclient
        from imapclient.exceptions import IMAPClientError, LoginError

        server = self.server
        if server.security == "plain" and server.host not in LOOPBACK:
            raise MailboxError("plain (unencrypted) IMAP is allowed only to this machine; "
                               "use security = \"tls\" or \"starttls\"")
        client = None
        try:
            client = imapclient.IMAPClient(
                server.host, port=server.port, ssl=server.security == "tls",
                ssl_context=self._tls_context(), timeout=server.timeout_seconds)
            if server.security == "starttls":
                client.starttls(self._tls_context())
            self._login(client)
        except LoginError as error:
            from .credentials import secret_source

            _hang_up(client)
            raise AuthenticationError(
                f"{self.account}: the server refused the login for {server.username} "
                f"({_server_said(error)}); check the login name "
                f"and {secret_source(self.config)}") from error
        except (OSError, IMAPClientError) as error:
            _hang_up(client)
            raise _connect_failure(self.config, error) from error
        self._client, self._selected = client, None
        if client.has_capability("CONDSTORE"):
            client.enable("CONDSTORE")

    def _login(self, client) -> None:
        server = self.server
        if server.auth == "oauth2":
            if server.oauth_mechanism.upper() == "OAUTHBEARER":
                client.oauthbearer_login(server.username, self._secret)
            else:
                client.oauth2_login(server.username, self._secret)
        else:
            client.login(server.username, self._secret)

    def close(self) -> None:
        _hang_up(self._client)
        self._client = None

    def _call(self, operation, *args, **kwargs):
        """Run one client operation, turning dropped connections into ConnectionLostError."""
        from imapclient.exceptions import IMAPClientAbortError

        if self._client is None:
            raise ConnectionLostError(f"{self.account}: not connected")
        try:
            return operation(*args, **kwargs)
        except (IMAPClientAbortError, OSError, socket.timeout, ssl.SSLError) as error:
            self._client = None
            raise ConnectionLostError(f"{self.account}: connection lost ({error})") from error

    def has(self, capability: str) -> bool:
        return bool(self._call(self._client.has_capability, capability))

    def _select(self, folder: str) -> dict:
        from imapclient.exceptions import IMAPClientError

        try:
            response = self._call(self._client.select_folder, folder)
        except IMAPClientError as error:
            raise FolderMissingError(f"{self.account}: cannot open folder {folder!r} "
                                     f"({error})") from error
        self._selected, self._validity = folder, int(response[b"UIDVALIDITY"])
        return response

    def _ensure(self, folder: str) -> None:
        if self._selected != folder:
            self._select(folder)

    def _refresh(self, folder: str) -> None:
        """Select `folder`, or, when it is selected already, NOOP: the server tells a
        selected session about other clients' changes (a copy delivered, an expunge) only
        between commands, and a SEARCH must not miss them."""
        if self._selected == folder:
            self._call(self._client.noop)
        else:
            self._select(folder)

    # -- folders ----------------------------------------------------------------------
    def folders(self, refresh: bool = False) -> Folders:
        """The folders to use, listed once per connection, or again with `refresh` (the
        reader renamed or deleted one): the held folder and, on a server without one, a
        Trash folder are created; the others are found by SPECIAL-USE, then by name."""
        if self._folders is None or refresh:
            listing = self._call(self._client.list_folders)
            separator = next((_text(sep) for _, sep, _ in listing if sep), "/")
            names = {name: {_text(f) for f in flags} for flags, _, name in listing}
            found = {role: self._special(role, names) for role in SPECIAL_USES}
            held = self._ensure_folder(self.config.held_folder.replace("/", separator), names)
            found["trash"] = found["trash"] or self._ensure_folder("Trash", names)
            folders = Folders(self.config.inbox, held, **found)
            if self._folders not in (None, folders):
                logger.warning("%s: folders found again: %s", self.account, folders)
            self._folders = folders
        return self._folders

    def _special(self, role: str, names: dict[str, set[str]]) -> str:
        configured = getattr(self.config, f"{role}_folder")
        if configured:
            if configured not in names:
                raise FolderMissingError(f"{self.account}: {role}_folder {configured!r} "
                                         "does not exist on the server")
            return configured
        for name, flags in names.items():
            if SPECIAL_USES[role] in flags:
                return name
        return next((n for n in FALLBACK_NAMES[role] if n in names), "")

    def _ensure_folder(self, name: str, names: dict[str, set[str]]) -> str:
        if name not in names:
            log = logger.warning if self._folders is not None else logger.info
            log("%s: creating folder %s%s", self.account, name, " again (renamed or deleted?)"
                if self._folders is not None else "")
            self._call(self._client.create_folder, name)
            self._call(self._client.subscribe_folder, name)
        return name

    # -- reading ------------------------------------------------------------------------
    def _status(self, folder: str) -> _FolderStatus:
        """Select `folder` (again: a fresh UIDNEXT and HIGHESTMODSEQ) and say its marks."""
        response = self._select(folder)
        return _FolderStatus(int(response[b"UIDVALIDITY"]), int(response.get(b"UIDNEXT", 0)),
                             int(response.get(b"HIGHESTMODSEQ", 0)))

    def _uids(self, folder: str, refs: Iterable[MessageRef], migrated: bool = False) -> list[int]:
        """The UIDs `refs` name in `folder` (selected), leaving out refs of another
        UIDVALIDITY: those messages are not there any more (`_uid_in`)."""
        self._ensure(folder)
        return [uid for ref in refs
                if (uid := _uid_in(ref, self._validity, migrated)) is not None]

    def _refs(self, uids: Iterable[int]) -> list[MessageRef]:
        return [_ref(self._validity, uid) for uid in sorted(uids)]

    def refs(self, folder: str) -> list[MessageRef]:
        self._refresh(folder)
        return self._refs(self._call(self._client.search, "ALL"))

    def refs_since(self, folder: str, since: date) -> list[MessageRef]:
        """Messages that arrived on or after `since` (IMAP SINCE: internal date)."""
        self._ensure(folder)
        return self._refs(self._call(self._client.search, ["SINCE", since]))

    def fetch_new(self, folder: str, cursor: str, limit: int) -> NewMail:
        status = self._status(folder)
        last_uid, restarted = _resume(cursor, status.uidvalidity)
        uids = [u for u in self._call(self._client.search, ["UID", f"{last_uid + 1}:*"])
                if u > last_uid]
        fetched = self.fetch(folder, self._refs(uids)[:limit])
        return _new_mail(fetched, status.uidvalidity, last_uid, status.highest_modseq, restarted)

    def cursor_at_end(self, folder: str) -> str:
        status = self._status(folder)
        return str(_Position(status.uidvalidity, max(status.uidnext - 1, 0),
                             status.highest_modseq))

    def _fetch(self, uids: list[int], items: list[str], modifiers: list[str] | None = None) -> dict:
        """FETCH in the selected folder, in chunks: imapclient sends every UID in full,
        and servers limit a command's length (Dovecot: 64 KiB)."""
        response: dict = {}
        for start in range(0, len(uids), FETCH_CHUNK):
            response.update(self._call(self._client.fetch, uids[start:start + FETCH_CHUNK],
                                       items, modifiers=modifiers))
        return response

    def fetch(self, folder: str, refs: Iterable[MessageRef]) -> list[Fetched]:
        uids = self._uids(folder, refs, migrated=True)
        if not uids:
            return []
        # Both capped: a header block too is only read as far as `parse` reads it.
        items = ["FLAGS", "INTERNALDATE", f"BODY.PEEK[HEADER]<0.{MAX_HEADER_BYTES}>",
                 f"BODY.PEEK[]<0.{self.config.fetch_bytes}>"]
        response = self._fetch(uids, items)
        fetched = []
        for uid in uids:
            data = response.get(uid)
            if data is None:
                continue  # vanished between SEARCH and FETCH
            header = next((v for k, v in data.items() if k.startswith(b"BODY[HEADER]")), b"")
            raw = next((v for k, v in data.items() if k.startswith(b"BODY[]")), b"") or b""
            if len(header or b"") > len(raw):  # headers past fetch_bytes: as far as parse reads
                raw = header
            fetched.append(Fetched(_ref(self._validity, uid), raw, _flags(data[b"FLAGS"]),
                                   _timestamp(data.get(b"INTERNALDATE"))))
        return fetched

    def flags(self, folder: str,
              refs: Iterable[MessageRef]) -> dict[MessageRef, frozenset[str]]:
        uids = self._uids(folder, refs)
        return self._flags_of(self._fetch(uids, ["FLAGS"])) if uids else {}

    def _flags_of(self, response: dict) -> dict[MessageRef, frozenset[str]]:
        return {_ref(self._validity, uid): _flags(data[b"FLAGS"])
                for uid, data in response.items() if b"FLAGS" in data}

    def changes(self, folder: str, refs: Iterable[MessageRef],
                cursor: str) -> tuple[dict[MessageRef, frozenset[str]], str]:
        """Flags of those messages changed since `cursor` (CONDSTORE's CHANGEDSINCE), else
        of all of them. The new cursor's HIGHESTMODSEQ is read before looking: a change
        made meanwhile is seen now or next time, never missed."""
        status = self._status(folder)
        now = _Position(status.uidvalidity, max(status.uidnext - 1, 0), status.highest_modseq)
        since = _Position.read(cursor, status.uidvalidity)
        uids = self._uids(folder, refs)
        if not (since and since.modseq and uids and self.has("CONDSTORE")):
            return self.flags(folder, self._refs(uids)), str(now)
        response = self._fetch(uids, ["FLAGS"], modifiers=[f"CHANGEDSINCE {since.modseq}"])
        return self._flags_of(response), str(now)

    def find(self, folder: str, message_id: str,
             content_hash: str = "") -> MessageRef | None:
        """The newest copy of the message with this Message-ID (as `parse` reads it) and,
        when given, this content: another message can reuse a Message-ID.

        Any bytes can sit in a Message-ID (Dovecot stores a NUL as 0x80), and IMAP can
        carry few of them: the SEARCH carries only the longest run of atom characters (a
        substring search), and the candidates' Message-IDs are read back to compare."""
        if not message_id:
            return None
        try:
            self._refresh(folder)
        except FolderMissingError:
            return None  # a folder that is not there holds no message
        whole = f"<{message_id}>"
        needle = max(_ATOM_RUN.findall(whole), key=len, default="")[:SEARCH_NEEDLE_CHARS]
        found = self._call(self._client.search, ["HEADER", "Message-ID", needle])
        if needle != whole:  # a few candidates: read as far as this Message-ID may reach
            candidates = self._message_ids(folder, found, MESSAGE_ID_BYTES + 4 * len(whole))
            found = [uid for uid, value in candidates.items() if value == message_id]
        return _newest(self, folder, self._refs(found), content_hash)

    def message_ids(self, folder: str, refs: Iterable[MessageRef]) -> dict[MessageRef, str]:
        """Ref -> Message-ID (without brackets, read as `parse` reads it), in one FETCH."""
        found = self._message_ids(folder, self._uids(folder, refs), MESSAGE_ID_BYTES)
        return {_ref(self._validity, uid): value for uid, value in found.items()}

    def _message_ids(self, folder: str, uids: Iterable[int], limit: int) -> dict[int, str]:
        uids = list(uids)
        if not uids:
            return {}
        self._ensure(folder)
        response = self._fetch(uids, [f"BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)]<0.{limit}>"])
        found = {}
        for uid, data in response.items():
            header = next((v for k, v in data.items() if k.startswith(b"BODY[HEADER")), b"")
            if message_id := _read_message_id(header or b""):
                found[uid] = message_id
        return found

    # -- changing -------------------------------------------------------------------------
    def _uid(self, folder: str, ref: MessageRef) -> int:
        """The UID of a message to change, which must still be there."""
        uids = self._uids(folder, [ref])
        if not uids:
            raise MailboxError(f"{self.account}: message {ref} is not in {folder} (a ref "
                               f"of another UIDVALIDITY than its {self._validity})")
        return uids[0]

    def move(self, folder: str, ref: MessageRef, target: str) -> MessageRef | None:
        """Move one message; its ref in `target` when the server says (UIDPLUS)."""
        from imapclient.exceptions import IMAPClientError

        uid = self._uid(folder, ref)
        if not (self.has("MOVE") or self.has("UIDPLUS")):
            raise MailboxError(f"{self.account}: the server has neither MOVE nor UIDPLUS, so "
                               "a message cannot be moved without expunging others")
        try:
            if self.has("MOVE"):
                self._call(self._client.move, [uid], target)
                return self._copied_to()
            self._call(self._client.copy, [uid], target)
        except IMAPClientError as error:  # NO or BAD: the connection itself is fine
            kind = FolderMissingError if "TRYCREATE" in str(error) else MailboxError
            raise kind(f"{self.account}: cannot move {uid} from {folder} to {target} "
                       f"({error})") from error
        moved_to = self._copied_to()
        self._call(self._client.add_flags, [uid], [DELETED])
        self._call(self._client.uid_expunge, [uid])
        return moved_to

    def _copied_to(self) -> MessageRef | None:
        """The ref the last MOVE or COPY gave the message in its target (UIDPLUS's COPYUID,
        "validity source-uids target-uids"), None when the server did not say. imapclient
        leaves the response code among imaplib's untagged responses."""
        codes = self._client._imap.untagged_responses.pop("COPYUID", [])
        try:
            validity, _, uid = _text(codes[-1]).split()[:3]
            return _ref(int(validity), int(uid))
        except (IndexError, ValueError):
            return None

    def tag(self, folder: str, ref: MessageRef, keyword: str) -> None:
        self._call(self._client.add_flags, [self._uid(folder, ref)], [keyword])

    def append(self, folder: str, raw: bytes, flags: Iterable[str] = ()) -> None:
        self._call(self._client.append, folder, raw, flags=tuple(flags))

    def wait(self, folder: str, timeout: float, stop: Callable[[], bool] = lambda: False) -> bool:
        """Wait up to `timeout` seconds for news in `folder`; True when there may be some.

        IDLE is checked in one-second slices so `stop` is honoured promptly, and renewed
        at least every nine minutes by the caller's loop (timeout is capped).
        """
        self._ensure(folder)
        deadline = time.monotonic() + min(timeout, IDLE_RENEW_SECONDS)
        if not (self.server.idle and self.has("IDLE")):
            _sleep_until(min(deadline, time.monotonic() + self.config.poll_seconds), stop)
            return True
        self._call(self._client.idle)
        # A server reports mail that came since the last command as soon as IDLE starts;
        # imaplib may read that line together with "+ idling", where polling the socket
        # (all imapclient's idle_check does) never sees it.
        news, silent_wakeups = bool(self._call(_buffered_responses, self._client)), 0
        try:
            while not news and not stop() and time.monotonic() < deadline:
                started = time.monotonic()
                responses = self._call(self._client.idle_check, timeout=IDLE_CHECK_SECONDS)
                news = bool(responses)
                # imapclient swallows an EOF during IDLE: the socket then polls readable
                # at once with nothing to read. Without this a server that went away
                # would go unnoticed until the IDLE is renewed, minutes later.
                quick = not news and time.monotonic() - started < IDLE_CHECK_SECONDS / 2
                silent_wakeups = silent_wakeups + 1 if quick else 0
                if silent_wakeups >= 3 or _says_goodbye(responses):
                    _hang_up(self._client)
                    self._client = None
                    raise ConnectionLostError(f"{self.account}: the server closed the "
                                              "connection during IDLE")
        finally:
            if self._client is not None:
                self._call(self._client.idle_done)
        return news


def _read_message_id(header: bytes) -> str:
    """The Message-ID in a header block, exactly as `parse` reads it."""
    plain = _PLAIN_MESSAGE_ID.fullmatch(header)
    return plain[1].decode("ascii") if plain else parse(header).message_id


LOOPBACK = ("127.0.0.1", "localhost", "::1")  # where plain IMAP may go: this machine only

# TLS errors of a connection cut short (a server restarting): worth another try.
_TLS_CUT_SHORT = (ssl.SSLEOFError, ssl.SSLZeroReturnError, ssl.SSLSyscallError)


def _connect_failure(account: AccountConfig, error: Exception) -> MailboxError:
    """What a failure to connect means: try again later (the network, a server going
    down), or stop and say why and what would fix it (no STARTTLS, an untrusted
    certificate, TLS spoken to a plain port, a server that does not speak IMAP):
    retrying would never help those."""
    from imapclient.exceptions import IMAPClientAbortError

    config = account.section(ImapSettings)
    where = f"{account.name}: {config.host}:{config.port}"
    if isinstance(error, ssl.SSLCertVerificationError):
        if "hostname" in str(error.verify_message).lower():
            return InsecureConnectionError(
                f"{where}: its certificate is for another name ({error.verify_message}); "
                "connect by the name on the certificate")
        return InsecureConnectionError(
            f"{where}: reached, but its certificate is not trusted ({error.verify_message}); "
            "for a self-signed server or one with its own certificate authority, give that "
            "certificate (PEM)", Remedy("ca_file", "PATH"))
    if isinstance(error, ssl.SSLError) and error.reason == "WRONG_VERSION_NUMBER":
        # TLS spoken to a server that answered in plain text: a STARTTLS port (143).
        return InsecureConnectionError(
            f"{where}: reached, but it answered in plain text, not TLS "
            "(WRONG_VERSION_NUMBER): this port expects STARTTLS", Remedy("security", "starttls"))
    if isinstance(error, ssl.SSLError) and not isinstance(error, _TLS_CUT_SHORT):
        return InsecureConnectionError(f"{where}: the TLS handshake failed ({error}); check "
                                       "security and port (tls: 993, starttls: 143)")
    if isinstance(error, OSError):
        return ConnectionLostError(f"{account.name}: cannot reach {config.host}:{config.port} "
                                   f"({error}); check the host and port (tls: 993, "
                                   "starttls: 143)")
    if "TLS" in str(error):  # imaplib: "TLS not supported by server", "Couldn't establish TLS"
        problem = (f"{where} offers no STARTTLS ({error}), or something on the way strips it; "
                   "gatekeeper never logs in unencrypted to another machine")
        if config.host in LOOPBACK:
            return InsecureConnectionError(problem + " (this machine may use plain)",
                                           Remedy("security", "plain"))
        return InsecureConnectionError(problem + ": check the server, or use security tls "
                                       "(port 993)", Remedy("security", "tls"))
    if isinstance(error, IMAPClientAbortError):  # a BYE or a dropped line while greeting
        return ConnectionLostError(f"{where}: the server hung up ({error})")
    return ProtocolError(f"{where} did not answer as an IMAP server ({error}); check host "
                         "and port")


def _buffered_responses(client) -> list[bytes]:
    """Lines imaplib has already read off the socket, without waiting for more."""
    import imaplib

    sock = client.socket()
    sock.setblocking(False)
    lines = []
    try:
        while True:
            try:
                lines.append(client._imap._get_line())
            except (BlockingIOError, ssl.SSLWantReadError, socket.timeout):
                return lines  # nothing more without waiting
            except imaplib.IMAP4.abort:
                return lines  # EOF: the next check notices the lost connection
    finally:
        sock.setblocking(True)
        client._set_read_timeout()  # as imapclient's idle_check leaves it


def _says_goodbye(responses) -> bool:
    """Whether IDLE responses include an untagged BYE (a server shutting down)."""
    return any(isinstance(r, tuple) and r and r[0] in (b"BYE", "BYE") for r in responses or ())


def _server_said(error: Exception) -> str:
    """The server's words in an imapclient error, without the b'...' of a bytes repr."""
    said = _text(error.args[0]) if error.args else str(error)
    quoted = re.fullmatch(r"b'(.*)'", said, re.S)
    return quoted[1] if quoted else said


def server_certificate(account: AccountConfig) -> bytes:
    """The certificate (DER) the account's server shows over TLS, unverified: for a person
    to compare its fingerprint before trusting a self-signed server."""
    import imapclient
    from imapclient.exceptions import IMAPClientError

    config = account.section(ImapSettings)
    context = ssl.create_default_context()
    context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
    client = None
    try:
        client = imapclient.IMAPClient(config.host, port=config.port,
                                       ssl=config.security == "tls", ssl_context=context,
                                       timeout=config.timeout_seconds)
        if config.security == "starttls":
            client.starttls(context)
        return client._imap.sock.getpeercert(binary_form=True)
    except (OSError, IMAPClientError) as error:
        raise _connect_failure(account, error) from error
    finally:
        _hang_up(client)


def _hang_up(client) -> None:
    """Close a connection that failed half-way, so no socket is left to the collector."""
    if client is None:
        return
    try:
        client.logout()
    except Exception:  # the connection is broken anyway
        try:
            client.shutdown()
        except Exception:
            pass


def _sleep_until(deadline: float, stop: Callable[[], bool]) -> None:
    while not stop() and time.monotonic() < deadline:
        time.sleep(min(0.2, max(deadline - time.monotonic(), 0)))


# -- Maildir -------------------------------------------------------------------------------
MAILDIR_FLAGS = {"S": SEEN, "R": ANSWERED, "F": FLAGGED, "T": DELETED, "D": "\\Draft",
                 "P": "$Forwarded"}


_MAILDIR_TIME = re.compile(r"(\d+)\.(?:M(\d+))?")


def _delivery_order(key: str) -> tuple[int, int, str]:
    """A Maildir name's place in delivery order: it starts with the delivery time, in
    seconds, then (Python's and most agents' `M`) the microseconds, unpadded, so the
    names themselves sort "M100000" before "M40" within one second."""
    found = _MAILDIR_TIME.match(key)
    if found is None:  # a name of another shape: after every timed one
        return (1 << 62, 0, key)
    return (int(found[1]), int(found[2] or 0), key)


class MaildirMailbox:
    """A Maildir tree (Maildir++ folders) behind the same protocol.

    Maildir has no UIDs, so each folder keeps a small file mapping message keys to
    increasing numbers, and a number fixed when the map is created plays UIDVALIDITY's
    part: refs and cursors are written as IMAP's are.
    """

    def __init__(self, config: AccountConfig) -> None:
        self.account = config.name
        self.config = config
        self.root = stdlib_mailbox.Maildir(Path(config.section(MaildirSettings).path).expanduser(),
                                           create=True)

    def close(self) -> None:
        pass

    def _folder(self, name: str) -> stdlib_mailbox.Maildir:
        if name in ("INBOX", self.config.inbox):
            return self.root
        try:
            return self.root.get_folder(name)
        except stdlib_mailbox.NoSuchMailboxError as error:
            raise FolderMissingError(f"{self.account}: no Maildir folder {name!r}") from error

    def _uid_map(self, name: str) -> dict:
        folder = self._folder(name)
        path = Path(folder._path) / ".gatekeeper-uids.json"
        data: dict[str, Any] = json.loads(path.read_text()) if path.exists() else {
            "uidvalidity": int(time.time()), "next": 1, "keys": {}}
        live = set(folder.keys())
        kept = {k: u for k, u in data["keys"].items() if k in live}
        arrived = sorted(live - kept.keys(), key=_delivery_order)
        unchanged = path.exists() and not arrived and len(kept) == len(data["keys"])
        for key in arrived:
            kept[key] = data["next"]
            data["next"] += 1
        data["keys"] = kept
        if not unchanged:  # whole or not at all: a torn file would renumber every message
            temporary = path.with_name(path.name + ".tmp")
            temporary.write_text(json.dumps(data))
            temporary.replace(path)
        return data

    def _keys(self, name: str, refs: Iterable[MessageRef],
              migrated: bool = False) -> dict[MessageRef, str]:
        """The file key of each of `refs` still in folder `name`, by its ref (`_uid_in`)."""
        data = self._uid_map(name)
        by_uid = {uid: key for key, uid in data["keys"].items()}
        validity = data["uidvalidity"]
        uids = (_uid_in(ref, validity, migrated) for ref in refs)
        return {_ref(validity, uid): by_uid[uid] for uid in uids
                if uid is not None and uid in by_uid}

    def folders(self, refresh: bool = False) -> Folders:
        """Looked up on every call (`refresh` changes nothing); the held folder and a Trash
        folder are created when missing."""
        names = set(self.root.list_folders())
        held = self.config.held_folder.replace("/", ".")
        found = {role: getattr(self.config, f"{role}_folder")
                 or next((n for n in FALLBACK_NAMES[role] if n in names), "")
                 for role in SPECIAL_USES}
        found["trash"] = found["trash"] or "Trash"
        for name in {held, found["trash"]} - names:
            logger.info("%s: creating folder %s", self.account, name)
            self.root.add_folder(name)
        return Folders(self.config.inbox, held, **found)

    def refs(self, folder: str) -> list[MessageRef]:
        data = self._uid_map(folder)
        return [_ref(data["uidvalidity"], uid) for uid in sorted(data["keys"].values())]

    def refs_since(self, folder: str, since: date) -> list[MessageRef]:
        """Messages delivered on or after `since` (the file's delivery time)."""
        box, start = self._folder(folder), datetime.combine(since, datetime.min.time()).timestamp()
        return [ref for ref, key in self._keys(folder, self.refs(folder)).items()
                if box.get_message(key).get_date() >= start]

    def fetch_new(self, folder: str, cursor: str, limit: int) -> NewMail:
        data = self._uid_map(folder)
        validity = data["uidvalidity"]
        last_uid, restarted = _resume(cursor, validity)
        uids = sorted(uid for uid in data["keys"].values() if uid > last_uid)[:limit]
        fetched = self.fetch(folder, [_ref(validity, uid) for uid in uids])
        return _new_mail(fetched, validity, last_uid, 0, restarted)

    def cursor_at_end(self, folder: str) -> str:
        data = self._uid_map(folder)
        return str(_Position(data["uidvalidity"], data["next"] - 1))

    def fetch(self, folder: str, refs: Iterable[MessageRef]) -> list[Fetched]:
        box, fetched = self._folder(folder), []
        for ref, key in self._keys(folder, refs, migrated=True).items():
            with box.get_file(key) as handle:
                raw = handle.read(self.config.fetch_bytes)
            fetched.append(Fetched(ref, raw, self._flags(box, key),
                                   box.get_message(key).get_date()))
        return fetched

    @staticmethod
    def _flags(box: stdlib_mailbox.Maildir, key: str) -> frozenset[str]:
        return frozenset(MAILDIR_FLAGS.get(f, f) for f in box.get_message(key).get_flags())

    def flags(self, folder: str,
              refs: Iterable[MessageRef]) -> dict[MessageRef, frozenset[str]]:
        box = self._folder(folder)
        return {ref: self._flags(box, key) for ref, key in self._keys(folder, refs).items()}

    def changes(self, folder: str, refs: Iterable[MessageRef],
                cursor: str) -> tuple[dict[MessageRef, frozenset[str]], str]:
        """Every flag of those messages: Maildir keeps no record of what changed when."""
        return self.flags(folder, refs), self.cursor_at_end(folder)

    def find(self, folder: str, message_id: str,
             content_hash: str = "") -> MessageRef | None:
        if not message_id:
            return None
        try:
            box, keys = self._folder(folder), self._keys(folder, self.refs(folder))
        except FolderMissingError:
            return None  # a folder that is not there holds no message
        found = [ref for ref, key in keys.items() if _maildir_message_id(box, key) == message_id]
        return _newest(self, folder, found, content_hash)

    def message_ids(self, folder: str, refs: Iterable[MessageRef]) -> dict[MessageRef, str]:
        box = self._folder(folder)
        found = {ref: _maildir_message_id(box, key)
                 for ref, key in self._keys(folder, refs).items()}
        return {ref: value for ref, value in found.items() if value}

    def move(self, folder: str, ref: MessageRef, target: str) -> MessageRef | None:
        """A rename into the target's same subfolder, as mail clients move in a Maildir:
        the bytes and the flags in the file name stay as they were."""
        source, key = self._folder(folder), self._keys(folder, [ref]).get(ref)
        if key is None:
            raise MailboxError(f"{self.account}: message {ref} is not in {folder}")
        # "new/<key>" or "cur/<key>:2,FS": stdlib Maildir's private lookup, not in typeshed
        name = source._lookup(key)  # type: ignore[attr-defined]
        Path(source._path, name).rename(Path(self._folder(target)._path, name))
        data = self._uid_map(target)
        uid = data["keys"].get(key)
        return None if uid is None else _ref(data["uidvalidity"], uid)

    def tag(self, folder: str, ref: MessageRef, keyword: str) -> None:
        logger.debug("Maildir has no keywords; %s not set on %s/%s", keyword, folder, ref)

    def append(self, folder: str, raw: bytes, flags: Iterable[str] = ()) -> None:
        message = stdlib_mailbox.MaildirMessage(raw)
        letters = {v: k for k, v in MAILDIR_FLAGS.items()}
        message.set_flags("".join(letters[f] for f in flags if f in letters))
        if SEEN in flags:
            message.set_subdir("cur")
        self._folder(folder).add(message)

    def wait(self, folder: str, timeout: float, stop: Callable[[], bool] = lambda: False) -> bool:
        _sleep_until(time.monotonic() + min(timeout, self.config.poll_seconds), stop)
        return True


def _newest(mailbox: Mailbox, folder: str, refs: list[MessageRef],
            content_hash: str) -> MessageRef | None:
    """The newest of `refs` (UID backends: the highest UID) whose message has this content
    hash (any of them when no hash is given, or when only one carries the Message-ID)."""
    if content_hash and len(refs) > 1:
        refs = [item.ref for item in mailbox.fetch(folder, refs)
                if parse(item.raw).content_hash == content_hash]
    return max(refs, key=lambda ref: int(ref.rpartition(":")[2])) if refs else None


def _timestamp(value) -> float:
    """A server's date (imapclient gives local naive datetimes) as seconds since 1970."""
    try:
        return value.timestamp()
    except (AttributeError, ValueError, OverflowError, OSError):
        return 0.0


def _maildir_message_id(box: stdlib_mailbox.Maildir, key: str) -> str:
    return str(box.get_message(key).get("Message-ID", "")).strip().strip("<>")


def _open_imap(config: AccountConfig) -> ImapMailbox:
    """Log in with the account's password or OAuth2 token (never in the settings file)."""
    from .credentials import oauth_token, password

    secret = oauth_token(config) if config.section(ImapSettings).auth == "oauth2" \
        else password(config)
    return ImapMailbox(config, secret)


@dataclass(frozen=True)
class Backend:
    """A kind of mailbox: the dataclass of its settings section, and how to open one."""

    settings: type  # read from the account's [accounts.<kind>] table
    open: Callable[[AccountConfig], Mailbox]


# Each kind of mailbox, by the name of its settings section: `kind` in the settings file.
BACKENDS: dict[str, Backend] = {
    "imap": Backend(ImapSettings, _open_imap),
    "maildir": Backend(MaildirSettings, MaildirMailbox),
}


def open_mailbox(config: AccountConfig) -> Mailbox:
    """Open an account's mailbox by its kind (connecting and logging in, for a server)."""
    return BACKENDS[config.kind].open(config)
