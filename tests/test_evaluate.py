"""The evaluation harness end to end, on a small corpus with the hash embedder."""

from __future__ import annotations

import json
import random
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner

from gatekeeper.cli import main
from gatekeeper.evaluation import quality
from gatekeeper.testing import HashEmbedder, build_message

WORK = ["meeting agenda", "code review", "release plan", "budget report", "design notes"]
JUNK = ["cheap pills", "lottery winner", "casino bonus", "discount watches", "crypto profit"]


def make_corpus(root: Path, n: int = 120) -> Path:
    rng = random.Random(0)
    start = datetime(2026, 1, 1, tzinfo=timezone.utc)
    for label in ("ham", "spam"):
        (root / label).mkdir(parents=True)
    for i in range(n):
        ham = i % 3 != 0
        topic = rng.choice(WORK if ham else JUNK)
        sender = f"{rng.choice(['ann', 'bob', 'cy'])}@team{rng.randint(1, 8)}.example" if ham else \
            f"promo{rng.randint(1, 50)}@spam{rng.randint(1, 9)}.example"
        raw = build_message(sender=sender, subject=f"{topic} {i}",
                            body=f"About the {topic}: details number {i}.",
                            date=start + timedelta(hours=i), message_id=f"<{i}@x>")
        (root / ("ham" if ham else "spam") / f"{i}.eml").write_bytes(raw)
    return root


@pytest.fixture
def corpus(tmp_path) -> Path:
    return make_corpus(tmp_path / "corpus")


def test_harness_reports_every_protocol_and_writes_files(corpus, tmp_path, monkeypatch):
    monkeypatch.setenv("GATEKEEPER_CACHE", str(tmp_path / "cache"))
    task = quality.task_from_path(corpus, "folders", interests=["meeting agenda code review"])
    report = quality.run_tasks([task], tmp_path / "out", embedder=HashEmbedder())
    result = report.results["tasks"]["corpus"]
    assert result["messages"] == 120
    assert set(result["splits"]) == {"reporting"}
    sender, later = result["splits"]["reporting"]["sender"], result["splits"]["reporting"]["time"]
    assert sender["batch"]["auc"] > 0.95 and later["batch"]["auc"] > 0.95
    assert later["online"]["auc"] > 0.9
    assert "prequential" in later and "prequential" not in sender
    curve = later["online"]["learning_curve"]
    assert [p["reactions"] for p in curve][:3] == [0, 10, 50]
    assert all(0 <= p["unwanted_removed_share"] <= 1 and p["wanted_lost_share"] == 0
               for p in curve)
    assert "tf-idf + naive Bayes" in later["baselines"]
    assert later["batch"]["wanted_lost_share"] == 0.0
    low, high = later["batch"]["intervals"]["auc"]  # every headline figure has its interval
    assert low <= later["batch"]["auc"] <= high
    low, high = later["prequential"]["intervals"]["wanted_held_share"]
    assert low <= later["prequential"]["wanted_held_share"] <= high
    assert all(len(p["intervals"]["auc"]) == 2 for p in curve)
    peer = later["baselines"]["tf-idf + naive Bayes"]  # compared on the same messages
    assert peer["gatekeeper_auc_gain"] == pytest.approx(later["batch"]["auc"] - peer["auc"])
    low, high = peer["intervals"]["gatekeeper_auc_gain"]
    assert low <= peer["gatekeeper_auc_gain"] <= high
    for name in ("quality.json", "quality.md", "learning_curve.png"):
        assert (tmp_path / "out" / name).exists()
    assert "| reporting | corpus | sender | gatekeeper (batch) |" in report.markdown
    assert "Prequential" in report.markdown
    assert json.loads((tmp_path / "out" / "quality.json").read_text())["tasks"]["corpus"]


def test_harness_runs_the_tuning_world_only_when_asked(corpus, tmp_path, monkeypatch):
    monkeypatch.setenv("GATEKEEPER_CACHE", str(tmp_path / "cache"))
    task = quality.task_from_path(corpus, "folders")
    report = quality.run_tasks([task], None, embedder=HashEmbedder(), roles=("tuning",),
                               protocols=("batch",))
    splits = report.results["tasks"]["corpus"]["splits"]
    assert set(splits) == {"tuning"}
    assert set(splits["tuning"]["time"]) >= {"batch"} and "online" not in splits["tuning"]["time"]
    assert "| tuning | corpus |" in report.markdown and "| reporting |" not in report.markdown


def test_harness_rejects_an_unknown_role(corpus, tmp_path):
    task = quality.task_from_path(corpus, "folders", cache_dir=tmp_path)
    with pytest.raises(ValueError, match="unknown role"):
        quality.run_tasks([task], None, tmp_path, embedder=HashEmbedder(), roles=("final",))


def test_later_task_learns_one_corpus_and_decides_another(tmp_path):
    early = quality.task_from_path(make_corpus(tmp_path / "early", 60), "folders")
    late = quality.task_from_path(make_corpus(tmp_path / "late", 30), "folders")
    task, split = quality.later_task(early, late)
    assert len(task.messages) == 90 and list(split.decide) == list(range(60, 90))
    report = quality.run_tasks([task], None, tmp_path, embedder=HashEmbedder(),
                               protocols=("batch", "prequential"), splits={task.name: [split]})
    later = report.results["tasks"][task.name]["splits"]["reporting"]["later"]
    assert later["decided"] == 30 and later["prequential"]["cumulative"][-1]["messages"] == 30


def test_eval_command_prints_the_table(corpus, tmp_path, monkeypatch):
    monkeypatch.setenv("GATEKEEPER_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(quality, "OnnxEmbedder", lambda threads: HashEmbedder())
    result = CliRunner().invoke(main, ["eval", str(corpus), "--no-baselines"])
    assert result.exit_code == 0, result.output
    assert "gatekeeper (online)" in result.output
    assert "| reporting |" in result.output and "| tuning |" not in result.output


def test_eval_command_runs_both_worlds_when_asked(corpus, tmp_path, monkeypatch):
    monkeypatch.setenv("GATEKEEPER_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(quality, "OnnxEmbedder", lambda threads: HashEmbedder())
    result = CliRunner().invoke(main, ["eval", str(corpus), "--no-baselines", "--role", "tuning",
                                       "--role", "reporting", "--json"])
    assert result.exit_code == 0, result.output
    assert set(json.loads(result.output)["tasks"]["corpus"]["splits"]) == {"tuning", "reporting"}


def test_eval_command_explains_an_unknown_label_folder(tmp_path):
    (tmp_path / "misc").mkdir()
    result = CliRunner().invoke(main, ["eval", str(tmp_path)])
    assert result.exit_code == 2
    assert "neither wanted" in result.output


def test_eval_command_learns_one_corpus_and_decides_a_later_one(tmp_path, monkeypatch):
    monkeypatch.setenv("GATEKEEPER_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(quality, "OnnxEmbedder", lambda threads: HashEmbedder())
    early, late = make_corpus(tmp_path / "early", 60), make_corpus(tmp_path / "late", 30)
    result = CliRunner().invoke(main, ["eval", str(early), "--later", str(late),
                                       "--no-baselines", "--json"])
    assert result.exit_code == 0, result.output
    (task,) = json.loads(result.output)["tasks"].values()
    later = task["splits"]["reporting"]["later"]
    assert later["learned"] == 60 and later["decided"] == 30
    assert {"batch", "prequential"} <= set(later) and "online" not in later


class CountingEmbedder(HashEmbedder):
    def __init__(self) -> None:
        super().__init__()
        self.read: list[str] = []

    def embed_many(self, texts):
        self.read += list(texts)
        return super().embed_many(texts)


def test_the_embedding_cache_reads_again_what_reads_differently(tmp_path, monkeypatch):
    from gatekeeper.core.message import Message, parse
    from gatekeeper.evaluation.evaluate import EmbeddingCache

    messages = [parse(build_message(subject=f"note {i}", body=f"body number {i}")) for i in range(3)]
    first = CountingEmbedder()
    vectors = EmbeddingCache(tmp_path, first).embed(messages)
    assert len(first.read) == 3
    again = CountingEmbedder()
    assert (EmbeddingCache(tmp_path, again).embed(messages) == vectors).all()
    assert again.read == []  # all from the file
    original = Message.text_for_embedding
    monkeypatch.setattr(Message, "text_for_embedding",
                        lambda self, max_chars=2000: original(self, max_chars).upper())
    changed = CountingEmbedder()
    EmbeddingCache(tmp_path, changed).embed(messages)
    assert changed.read == [original(m).upper() for m in messages]  # the new text, read anew


def _save_often(folder: str, rounds: int) -> None:
    from gatekeeper.evaluation.evaluate import EmbeddingCache
    cache = EmbeddingCache(Path(folder), HashEmbedder())
    for _ in range(rounds):
        cache.save()


def test_two_runs_sharing_an_embedding_cache_can_save_at_once(tmp_path):
    # Both used to write the same temporary file: one renamed it away under the other.
    import multiprocessing

    from gatekeeper.core.message import parse
    from gatekeeper.evaluation.evaluate import EmbeddingCache

    EmbeddingCache(tmp_path, HashEmbedder()).embed([parse(build_message(subject="one note"))])
    context = multiprocessing.get_context("spawn")
    runs = [context.Process(target=_save_often, args=(str(tmp_path), 200)) for _ in range(2)]
    for run in runs:
        run.start()
    for run in runs:
        run.join()
    assert [run.exitcode for run in runs] == [0, 0]
    assert not list(tmp_path.glob("*.tmp.npz"))
    assert len(EmbeddingCache(tmp_path, HashEmbedder()).vectors) == 1
