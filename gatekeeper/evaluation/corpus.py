"""Labelled mail for evaluation: the public corpora's layouts, folders per label, mbox + CSV.

Corpora are never part of the repository. Archives are unpacked once into a cache folder
(`$GATEKEEPER_CACHE`, else the platform's user cache). Loaders return messages sorted by
arrival order, so the earlier part can be learned from and the later part decided.
"""

from __future__ import annotations

import csv
import mailbox
import os
import shutil
import tarfile
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from email.parser import BytesHeaderParser
from email.policy import compat32
from email.utils import parsedate_to_datetime
from pathlib import Path

from ..errors import CorpusError

DONE_MARKER = ".unpacked"
WANTED_LABELS = {"wanted", "ham", "1", "true", "yes"}
UNWANTED_LABELS = {"unwanted", "spam", "0", "false", "no"}
_HEADERS = BytesHeaderParser(policy=compat32)


@dataclass(frozen=True)
class LabelledMessage:
    """One message of a corpus and what the reader thinks of it."""

    raw: bytes
    wanted: bool
    label: str  # the folder, group or label it came from
    key: str  # stable id: its path inside the corpus, or its Message-ID
    order: float  # sort key for time-ordered splits


def default_cache_dir() -> Path:
    if os.environ.get("GATEKEEPER_CACHE"):
        return Path(os.environ["GATEKEEPER_CACHE"]).expanduser()
    import platformdirs

    return Path(platformdirs.user_cache_dir("gatekeeper")) / "corpora"


def unpack(archive: Path, cache_dir: Path) -> Path:
    """Extract an archive once into the cache; later calls reuse it."""
    if not archive.is_file():
        raise CorpusError(f"no corpus archive at {archive}; pass --corpus-dir pointing at the "
                          "folder that holds it (the project's ../shared/corpora)")
    target = cache_dir / archive.name.split(".tar")[0]
    if (target / DONE_MARKER).exists():
        return target
    cache_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".unpack-", dir=cache_dir))
    try:
        with tarfile.open(archive) as tar:
            for member in tar.getmembers():
                if member.name.startswith("/") or ".." in Path(member.name).parts:
                    raise CorpusError(f"{archive}: unsafe member {member.name!r}; not unpacking")
            tar.extractall(staging, filter="data")
        (staging / DONE_MARKER).touch()
        shutil.rmtree(target, ignore_errors=True)
        staging.rename(target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def _folder(source: Path, cache_dir: Path | None) -> Path:
    if source.is_dir():
        return source
    return unpack(source, cache_dir or default_cache_dir())


def _date(raw: bytes) -> float | None:
    try:
        header_block = raw.split(b"\n\n", 1)[0].split(b"\r\n\r\n", 1)[0]
        value = _HEADERS.parsebytes(header_block).get("Date")
        return parsedate_to_datetime(str(value)).timestamp() if value else None
    except Exception:  # a missing or unreadable date: ordered by position instead
        return None


def _by_date(items: list[tuple[bytes, bool, str, str]]) -> list[LabelledMessage]:
    """Sort by Date header; undated messages keep their place between their neighbours."""
    dates = [_date(raw) for raw, *_ in items]
    known = [d for d in dates if d is not None]
    fallback = min(known) if known else 0.0
    ordered, last = [], fallback
    for (raw, wanted, label, key), date in zip(items, dates):
        last = date if date is not None else last
        ordered.append(LabelledMessage(raw, wanted, label, key, last))
    return sorted(ordered, key=lambda m: (m.order, m.key))


def _files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file() and not p.name.startswith("."))


def load_spamassassin(source: Path, cache_dir: Path | None = None) -> list[LabelledMessage]:
    """The SpamAssassin public corpus layout: *ham* folders wanted, *spam* folders not."""
    root = _folder(source, cache_dir)
    root = root / "spamassassin" if (root / "spamassassin").is_dir() else root
    folders = [p for p in sorted(root.iterdir()) if p.is_dir() and ("ham" in p.name or "spam" in p.name)]
    if not folders:
        raise CorpusError(f"{source}: no ham or spam folders (expected easy_ham/ and spam/)")
    items = [(path.read_bytes(), "ham" in folder.name, folder.name, f"{folder.name}/{path.name}")
             for folder in folders for path in _files(folder)]
    return _by_date(items)


def load_20news(source: Path, wanted_groups: Sequence[str],
                cache_dir: Path | None = None) -> list[LabelledMessage]:
    """20 Newsgroups (bydate): posts of `wanted_groups` wanted, the groups interleaved.

    The corpus took about the latest thousand posts of each group, so every group covers
    its own stretch of time and any global order (post number or Date) lines the groups up
    one after another: a time split would then test on groups never seen. A reader of all
    twenty sees them side by side, so each group keeps its own post order and is spread
    evenly over the whole span.
    """
    root = _folder(source, cache_dir)
    candidates = [root, root / "20news" / "20news-bydate-train", root / "20news-bydate-train"]
    base = next((c for c in candidates if c.is_dir() and any(
        p.is_dir() and "." in p.name for p in c.iterdir())), None)
    if base is None:
        raise CorpusError(f"{source}: no newsgroup folders found")
    groups = sorted(p.name for p in base.iterdir() if p.is_dir())
    unknown = sorted(set(wanted_groups) - set(groups))
    if unknown:
        raise CorpusError(f"unknown group(s) {', '.join(unknown)}; available: {', '.join(groups)}")
    messages = []
    for group in groups:
        posts = sorted(_files(base / group), key=lambda p: (int(p.name) if p.name.isdigit() else 0,
                                                            p.name))
        messages += [LabelledMessage(path.read_bytes(), group in wanted_groups, group,
                                     f"{group}/{path.name}", (index + 0.5) / len(posts))
                     for index, path in enumerate(posts)]
    return sorted(messages, key=lambda m: (m.order, m.key))


def load_folders(root: Path, wanted: Sequence[str] = ("wanted", "ham"),
                 unwanted: Sequence[str] = ("unwanted", "spam")) -> list[LabelledMessage]:
    """One subfolder per label (files, or a Maildir's cur/ and new/), ordered by Date."""
    if not root.is_dir():
        raise CorpusError(f"{root} is not a folder")
    items = []
    for folder in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        if folder.name in wanted or folder.name in unwanted:
            is_wanted = folder.name in wanted
        else:
            raise CorpusError(f"folder {folder.name!r} is neither wanted ({', '.join(wanted)}) "
                              f"nor unwanted ({', '.join(unwanted)}); map it with --wanted or "
                              "--unwanted")
        items += [(p.read_bytes(), is_wanted, folder.name, str(p.relative_to(root)))
                  for p in _files(folder) if "tmp" not in p.relative_to(folder).parts[:1]]
    if not items:
        raise CorpusError(f"{root}: no messages found in its label folders")
    return _by_date(items)


def _labels(labels_csv: Path) -> dict[str, bool]:
    labels = {}
    with labels_csv.open(newline="") as handle:
        for line, row in enumerate(csv.DictReader(handle), start=2):
            value = (row.get("label") or "").strip().lower()
            if value not in WANTED_LABELS | UNWANTED_LABELS:
                raise CorpusError(f"{labels_csv}:{line}: label {value!r} is not one of "
                                  "wanted/unwanted/ham/spam/1/0")
            labels[(row.get("message_id") or "").strip().strip("<>")] = value in WANTED_LABELS
    return labels


def load_mbox_labels(mbox_path: Path, labels_csv: Path) -> list[LabelledMessage]:
    """An mbox and a CSV of message_id,label; unlabelled messages are skipped."""
    labels = _labels(labels_csv)
    items = []
    for message in mailbox.mbox(mbox_path):
        message_id = str(message.get("Message-ID", "")).strip().strip("<>")
        if message_id in labels:
            wanted = labels[message_id]
            items.append((message.as_bytes(), wanted, "wanted" if wanted else "unwanted",
                          message_id))
    if not items:
        raise CorpusError(f"no message of {mbox_path} has a label in {labels_csv}")
    return _by_date(items)


def split_by_order(messages: list[LabelledMessage], train_share: float):
    """The earlier `train_share` for learning, the rest for testing."""
    cut = int(len(messages) * train_share)
    return messages[:cut], messages[cut:]
