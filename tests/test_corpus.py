"""Corpus loaders on small corpora built here (tests never read ../shared)."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

import pytest

from gatekeeper.errors import CorpusError
from gatekeeper.evaluation.corpus import (
    load_20news, load_folders, load_mbox_labels, load_spamassassin, split_by_order, unpack,
)
from gatekeeper.testing import build_message
from datetime import datetime, timezone


def mail(day: int, subject: str) -> bytes:
    return (b"From someone@example.org  Mon Jan  1 00:00:00 2002\n"
            + build_message(subject=subject, message_id=f"<{subject}@x>",
                            date=datetime(2002, 1, day, tzinfo=timezone.utc)))


def make_tar(path: Path, members: dict[str, bytes]) -> Path:
    with tarfile.open(path, "w:xz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


@pytest.fixture
def spamassassin_tar(tmp_path) -> Path:
    return make_tar(tmp_path / "sa.tar.xz", {
        "spamassassin/easy_ham/00001.a": mail(5, "ham-late"),
        "spamassassin/easy_ham/00002.b": mail(1, "ham-early"),
        "spamassassin/spam/00001.c": mail(3, "spam-middle"),
        "spamassassin/PROVENANCE.txt": b"not a message",
    })


def test_spamassassin_layout_is_labelled_and_ordered_by_date(spamassassin_tar, tmp_path):
    messages = load_spamassassin(spamassassin_tar, tmp_path / "cache")
    assert [m.key for m in messages] == ["easy_ham/00002.b", "spam/00001.c", "easy_ham/00001.a"]
    assert [m.wanted for m in messages] == [True, False, True]


def test_unpack_happens_once(spamassassin_tar, tmp_path):
    first = unpack(spamassassin_tar, tmp_path / "cache")
    marker = (first / ".unpacked").stat().st_mtime_ns
    assert unpack(spamassassin_tar, tmp_path / "cache") == first
    assert (first / ".unpacked").stat().st_mtime_ns == marker


def test_unpack_refuses_path_traversal(tmp_path):
    archive = make_tar(tmp_path / "evil.tar.xz", {"../escape": b"x"})
    with pytest.raises(CorpusError, match="unsafe member"):
        unpack(archive, tmp_path / "cache")
    assert not (tmp_path / "escape").exists()


def test_missing_archive_says_where_to_point(tmp_path):
    with pytest.raises(CorpusError, match="--corpus-dir"):
        load_spamassassin(tmp_path / "nope.tar.xz", tmp_path)


def test_20news_interleaves_the_groups_keeping_each_groups_post_order(tmp_path):
    root = tmp_path / "20news" / "20news-bydate-train"
    posts = {"sci.space": (60001, 60002, 60003, 60004), "alt.atheism": (100, 200)}
    for group, numbers in posts.items():
        (root / group).mkdir(parents=True)
        for number in numbers:
            (root / group / str(number)).write_bytes(b"From: a@b.example\nSubject: s\n\npost")
    messages = load_20news(tmp_path, ["sci.space"])
    assert [m.key for m in messages] == [
        "sci.space/60001", "alt.atheism/100", "sci.space/60002", "sci.space/60003",
        "alt.atheism/200", "sci.space/60004"]
    assert [m.wanted for m in messages] == [m.label == "sci.space" for m in messages]


def test_20news_unknown_group_lists_the_available_ones(tmp_path):
    (tmp_path / "sci.space").mkdir()
    (tmp_path / "sci.space" / "1").write_bytes(b"x")
    with pytest.raises(CorpusError, match="available: sci.space"):
        load_20news(tmp_path, ["sci.spaec"])


def test_folders_per_label_including_maildir(tmp_path):
    (tmp_path / "ham" / "cur").mkdir(parents=True)
    (tmp_path / "ham" / "tmp").mkdir()
    (tmp_path / "spam").mkdir()
    (tmp_path / "ham" / "cur" / "1:2,S").write_bytes(mail(2, "h"))
    (tmp_path / "ham" / "tmp" / "partial").write_bytes(b"half written")
    (tmp_path / "spam" / "s1").write_bytes(mail(1, "s"))
    messages = load_folders(tmp_path)
    assert [(m.label, m.wanted) for m in messages] == [("spam", False), ("ham", True)]


def test_unknown_label_folder_is_named(tmp_path):
    (tmp_path / "misc").mkdir()
    with pytest.raises(CorpusError, match="'misc' is neither"):
        load_folders(tmp_path)


def test_mbox_with_labels(tmp_path):
    mbox = tmp_path / "all.mbox"
    mbox.write_bytes(mail(2, "b") + b"\n" + mail(1, "a") + b"\n" + mail(3, "c") + b"\n")
    labels = tmp_path / "labels.csv"
    labels.write_text("message_id,label\n<a@x>,ham\nb@x,spam\n")
    messages = load_mbox_labels(mbox, labels)
    assert [(m.key, m.wanted) for m in messages] == [("a@x", True), ("b@x", False)]


def test_bad_csv_label_names_the_line(tmp_path):
    mbox = tmp_path / "all.mbox"
    mbox.write_bytes(mail(1, "a"))
    labels = tmp_path / "labels.csv"
    labels.write_text("message_id,label\na@x,ham\nb@x,maybe\n")
    with pytest.raises(CorpusError, match="labels.csv:3"):
        load_mbox_labels(mbox, labels)


def test_split_by_order_keeps_earlier_for_training(spamassassin_tar, tmp_path):
    train, test = split_by_order(load_spamassassin(spamassassin_tar, tmp_path), 2 / 3)
    assert [m.key for m in train] == ["easy_ham/00002.b", "spam/00001.c"]
    assert [m.key for m in test] == ["easy_ham/00001.a"]
