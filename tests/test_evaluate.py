"""The evaluation harness end to end, on a small corpus with the hash embedder."""

from __future__ import annotations

import json
import random
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner

from gatekeeper import quality
from gatekeeper.cli import main
from gatekeeper.evaluate import SimulatedReader
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
        sender = f"{rng.choice(['ann', 'bob', 'cy'])}@work.example" if ham else \
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
    assert result["batch"]["auc"] > 0.95
    assert result["online"]["auc"] > 0.9
    curve = result["online"]["learning_curve"]
    assert [p["reactions"] for p in curve] == [0, 10, 50]
    assert all(0 <= p["unwanted_removed_share"] <= 1 and p["wanted_lost_share"] == 0
               for p in curve)
    assert curve[-1]["unwanted_removed_share"] >= 0.9
    assert "tf-idf + naive Bayes" in result["baselines"]
    assert result["batch"]["wanted_lost_share"] == 0.0
    for name in ("quality.json", "quality.md", "learning_curve.png"):
        assert (tmp_path / "out" / name).exists()
    assert "| corpus | gatekeeper (batch) |" in report.markdown
    assert json.loads((tmp_path / "out" / "quality.json").read_text())["tasks"]["corpus"]


def test_simulated_reader_reacts_like_a_person():
    reader = SimulatedReader()
    assert reader.react(True, "pass") == "read_soon"
    assert reader.react(False, "pass") == "deleted_unread"
    assert reader.react(True, "delete") is None and reader.react(True, "hold") is None
    assert (reader.review(True), reader.review(False)) == ("rescued", "deleted_from_held")


def test_eval_command_prints_the_table(corpus, tmp_path, monkeypatch):
    monkeypatch.setenv("GATEKEEPER_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(quality, "OnnxEmbedder", lambda threads: HashEmbedder())
    result = CliRunner().invoke(main, ["eval", str(corpus), "--no-baselines"])
    assert result.exit_code == 0, result.output
    assert "gatekeeper (online)" in result.output


def test_eval_command_explains_an_unknown_label_folder(tmp_path):
    (tmp_path / "misc").mkdir()
    result = CliRunner().invoke(main, ["eval", str(tmp_path)])
    assert result.exit_code == 2
    assert "neither wanted" in result.output
