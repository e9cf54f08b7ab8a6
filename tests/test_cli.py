"""The command line, through click's CliRunner."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from gatekeeper.campaign import bundled_examples
from gatekeeper.cli import main

ROOT = Path(__file__).resolve().parent.parent


def all_commands() -> list[str]:
    return sorted(main.commands)


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def newsletter(tmp_path) -> Path:
    raw = dict(bundled_examples())["03-space-newsletter.eml"]
    path = tmp_path / "newsletter.eml"
    path.write_bytes(raw)
    return path


@pytest.mark.parametrize("command", all_commands())
def test_every_command_has_help_with_an_example(runner, command):
    result = runner.invoke(main, [command, "--help"])
    assert result.exit_code == 0
    assert "Example: gatekeeper " + command in result.output


@pytest.mark.parametrize("command", all_commands())
def test_every_command_is_in_the_readme(command):
    readme = (ROOT / "README.md").read_text()
    assert re.search(rf"`gatekeeper {command}\b", readme), f"README does not show {command}"


def test_score_prints_parsed_essentials_and_model(runner, newsletter):
    result = runner.invoke(main, ["score", str(newsletter)])
    assert result.exit_code == 0, result.output
    assert "news@orbital-weekly.example" in result.output
    assert "This week in spaceflight" in result.output
    assert "all-MiniLM-L6-v2-int8@" in result.output


def test_score_json_has_unit_norm_and_auth_verdicts(runner, newsletter):
    result = runner.invoke(main, ["score", "--json", str(newsletter)])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert summary["embedding_norm"] == pytest.approx(1.0, abs=1e-4)
    assert summary["auth"] == {"spf": "pass", "dkim": "pass", "dmarc": "pass"}
    assert summary["list_id"] == "weekly.orbital-weekly.example"
    assert summary["one_click_unsubscribe"] is True
    assert summary["model"].endswith("/len256")


def test_score_reads_standard_input(runner, newsletter):
    result = runner.invoke(main, ["score", "--json", "-"], input=newsletter.read_bytes())
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["bulk"] is True


def test_score_fast_setting_changes_model_id(runner, newsletter):
    result = runner.invoke(main, ["score", "--json", "--max-length", "128", str(newsletter)])
    assert json.loads(result.output)["model"].endswith("/len128")


def test_score_missing_file_says_what_to_give(runner, tmp_path):
    result = runner.invoke(main, ["score", str(tmp_path / "nope.eml")])
    assert result.exit_code == 2
    assert "no such file" in result.output


def test_score_garbage_input_still_succeeds_with_defects(runner):
    result = runner.invoke(main, ["score", "--json", "-"], input=b"\xff\xfe\x00garbage")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["embedding_norm"] == pytest.approx(1.0, abs=1e-4)


def test_score_takes_a_utf7_body_with_a_lone_surrogate(runner):
    poison = (b"From: a@example.org\r\nSubject: poison\r\nMessage-ID: <p1@example.org>\r\n"
              b"Content-Type: text/plain; charset=utf-7\r\n\r\n+2D0-\r\n")
    result = runner.invoke(main, ["score", "--json", "-"], input=poison)
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["embedding_norm"] == pytest.approx(1.0, abs=1e-4)
