"""Audiences: the built-in personas, allocation of recipients, and the YAML and CSV loaders
with the errors they give."""

from __future__ import annotations

import csv
import json
import math
from dataclasses import asdict
from importlib import resources
from pathlib import Path

import numpy as np
import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

import gatekeeper
from gatekeeper.campaign.audience import (
    Audience,
    AudienceError,
    Example,
    Persona,
    default_audience,
    load_audience,
)
from gatekeeper.errors import InputError

DEVELOPER = {"name": "developer", "share": 1, "interests": ["python packaging"]}


def persona_with_share(share: float, index: int = 0) -> Persona:
    return Persona(name=f"segment {index}", description="", share=share,
                   interests=("anything",), disinterests=())


def audience_with_shares(shares: list[float]) -> Audience:
    return Audience("test", tuple(persona_with_share(s, i) for i, s in enumerate(shares)))


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def write_yaml(tmp_path: Path, data, name: str = "audience.yaml") -> Path:
    return write(tmp_path / name, yaml.safe_dump(data, sort_keys=False, allow_unicode=True))


def load_error(path: Path) -> str:
    with pytest.raises(AudienceError) as raised:
        load_audience(path)
    return str(raised.value)


# -- the built-in audience --

def test_default_audience_looks_like_a_real_mixed_list():
    audience = default_audience()
    personas = audience.personas
    assert len(personas) >= 16
    assert math.isclose(sum(p.share for p in personas), 1.0, abs_tol=1e-9)
    assert len({p.name for p in personas}) == len(personas)
    assert {p.market for p in personas} == {"b2c", "b2b"}
    for persona in personas:
        assert persona.description.endswith("."), persona.name
        assert 3 <= len(persona.interests) <= 5, persona.name
        assert 2 <= len(persona.disinterests) <= 4, persona.name
        assert len(persona.engaged) == 3 and len(persona.ignored) == 3, persona.name
        assert 0 <= persona.bulk_tolerance <= 1 and 0 <= persona.disengage_speed <= 1
        for example in persona.engaged + persona.ignored:
            assert example.subject and example.body.count(".") >= 1, example
            assert example.sender.endswith(".example>"), example.sender


def test_default_audience_tolerances_fit_the_people():
    by_name = {p.name: p for p in default_audience().personas}
    ceo, retiree = by_name["CEO"], by_name["retiree"]
    assert ceo.bulk_tolerance < retiree.bulk_tolerance
    assert ceo.disengage_speed > retiree.disengage_speed


def test_default_audience_ships_inside_the_package():
    resource = resources.files("gatekeeper.campaign") / "audiences" / "default.yaml"
    assert resource.is_file()
    package_dir = Path(gatekeeper.__file__).resolve().parent
    assert Path(str(resource)).resolve().is_relative_to(package_dir)
    assert load_audience(None) is default_audience()
    assert load_audience(Path(str(resource))) == default_audience()


# -- shares and allocation --

def test_shares_are_relative_weights_normalised_to_one():
    assert audience_with_shares([3, 1]).shares() == pytest.approx([0.75, 0.25])


@pytest.mark.parametrize("shares, recipients, expected", [
    ([1, 1, 2], 4, [1, 1, 2]),
    ([0.5, 0.3, 0.2], 10, [5, 3, 2]),
    ([0.55, 0.45], 3, [2, 1]),  # remainders .65 and .35: the larger gets the extra one
    ([0.98, 0.01, 0.01], 3, [1, 1, 1]),  # everyone gets one when there are enough
    ([1, 1, 1], 2, [1, 1, 0]),  # fewer recipients than personas: ties go in order
    ([1, 2], 0, [0, 0]),
])
def test_allocate_examples(shares, recipients, expected):
    assert audience_with_shares(shares).allocate(recipients) == expected


def test_allocate_refuses_a_negative_count():
    with pytest.raises(ValueError, match="-1"):
        audience_with_shares([1]).allocate(-1)


@given(shares=st.lists(st.floats(min_value=1e-3, max_value=1e3), min_size=1, max_size=25),
       recipients=st.integers(min_value=0, max_value=100_000))
def test_allocate_sums_exactly_and_is_proportional(shares, recipients):
    audience = audience_with_shares(shares)
    counts = np.array(audience.allocate(recipients))
    quotas = audience.shares() * recipients
    assert counts.sum() == recipients and (counts >= 0).all()
    if recipients >= len(shares):
        assert (counts >= 1).all()
    if quotas.min() >= 1:  # nobody needed topping up: plain largest remainder
        assert (np.abs(counts - quotas) < 1).all()
    assert (counts <= np.maximum(1, np.ceil(quotas - 1e-9))).all()


# -- loading YAML and CSV --

def small_audience() -> Audience:
    newsletter = Example("Release 2.0", "Faster installs and a new resolver.",
                         "Forgeworks <news@forgeworks.example>")
    reply = Example("Re: your patch", "Could you add a test?", bulk=False)
    return Audience("spring list", (
        Persona("developer", "Writes Python.", 3, ("python packaging", "release notes"),
                ("fashion sales",), engaged=(newsletter, reply), bulk_tolerance=0.3,
                disengage_speed=0.8, market="b2b"),
        Persona("home cook", "Cooks at weekends.", 1, ("recipes",), (),
                ignored=(Example("Burger deal", "Two for one."),)),
    ))


@pytest.mark.parametrize("suffix", [".yaml", ".yml", ".YAML"])
def test_yaml_round_trip(tmp_path, suffix):
    audience = small_audience()
    plain = json.loads(json.dumps(asdict(audience)))  # tuples become lists, as YAML has them
    path = write_yaml(tmp_path, plain, f"list{suffix}")
    assert load_audience(path) == audience


def test_yaml_defaults_aliases_and_name_from_the_file(tmp_path):
    data = {"personas": [{**DEVELOPER, "tolerance": 0.2, "disinterests": None,
                          "engaged": [{"subject": "Hi", "body": "Hello."}]}]}
    audience = load_audience(write_yaml(tmp_path, data, "my-list.yaml"))
    (persona,) = audience.personas
    assert audience.name == "my-list"
    assert persona == Persona("developer", "", 1.0, ("python packaging",), (),
                              engaged=(Example("Hi", "Hello."),), bulk_tolerance=0.2)


CSV_TEXT = """\
Segment,share,interests,disinterests,tolerance,description,market,disengage_speed
developer,0.6,"python packaging; release notes;",celebrity gossip,0.3,Writes code.,b2b,0.7

"home cook, weekend",0.4,recipes,,0.8,,,
"""


def test_csv_loading(tmp_path):
    audience = load_audience(write(tmp_path / "list.csv", CSV_TEXT))
    assert audience == Audience("list", (
        Persona("developer", "Writes code.", 0.6,
                ("python packaging", "release notes"), ("celebrity gossip",),
                bulk_tolerance=0.3, disengage_speed=0.7, market="b2b"),
        Persona("home cook, weekend", "", 0.4, ("recipes",), (), bulk_tolerance=0.8),
    ))


statement = st.text(st.characters(codec="utf-8", exclude_characters=";\r\n\x00"), min_size=1)


@given(interests=st.lists(statement.filter(str.strip), min_size=1, max_size=6))
def test_csv_statements_survive_any_text_but_the_separator(tmp_path_factory, interests):
    path = tmp_path_factory.getbasetemp() / "statements.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["segment", "share", "interests", "disinterests", "tolerance"])
        writer.writerow(["anyone", 1, ";".join(interests), "", 0.5])
    (persona,) = load_audience(path).personas
    assert persona.interests == tuple(s.strip() for s in interests)


# -- errors: each names the file, the place, the field and the bad value --

def test_audience_error_is_an_input_error():
    assert issubclass(AudienceError, InputError)


def test_unknown_suffix_lists_the_accepted_ones(tmp_path):
    message = load_error(write(tmp_path / "audience.txt", "name: x"))
    assert "audience.txt" in message and ".yaml, .yml or .csv" in message and "'.txt'" in message


@pytest.mark.parametrize("make, reason", [
    (lambda folder: folder / "missing.yaml", "No such file"),
    (lambda folder: (folder / "folder.yaml").mkdir() or folder / "folder.yaml", "directory"),
    (lambda folder: (folder / "latin1.yaml").write_bytes(b"name: caf\xe9") and
     folder / "latin1.yaml", "utf-8"),
], ids=["missing", "directory", "not-utf8"])
def test_unreadable_file(tmp_path, make, reason):
    path = make(tmp_path)
    message = load_error(path)
    assert path.name in message and "cannot read" in message and reason in message


def test_invalid_yaml_names_the_line(tmp_path):
    text = "name: broken\npersonas:\n  - name: dev\n    share: [0.2\n    interests: [x]\n"
    message = load_error(write(tmp_path / "broken.yaml", text))
    assert "broken.yaml" in message and "not valid YAML at line 5" in message
    assert "interests: [x]" in message


@pytest.mark.parametrize("text, expected", [
    ("- a\n- b\n", "the top level must be a mapping with name and personas, not a list"),
    ("", "the top level must be a mapping with name and personas, not nothing"),
    ("name: empty\npersonas: []\n", "no personas"),
    ("name: empty\n", "no personas"),
    ("personas: {name: dev}\n", "personas must be a list of mappings, not a dict"),
    ("personas: [developer]\n",
     "persona #1: a persona must be a mapping of fields, not 'developer'"),
    ("name: [x]\npersonas: []\n", "name must be a non-empty string, not ['x']"),
    ("name: x\npersona: []\n", "unknown field 'persona'; did you mean 'personas'?"),
], ids=["list", "empty-file", "empty-personas", "no-personas", "personas-mapping",
        "persona-not-mapping", "bad-name", "unknown-top-level"])
def test_bad_top_level(tmp_path, text, expected):
    message = load_error(write(tmp_path / "top.yaml", text))
    assert "top.yaml" in message and expected in message


def test_duplicate_names_point_at_both(tmp_path):
    data = {"personas": [DEVELOPER, {**DEVELOPER, "share": 2}]}
    message = load_error(write_yaml(tmp_path, data))
    assert ("audience.yaml, persona #2 ('developer'): the name 'developer' is already used by "
            "persona #1 ('developer')") in message


@pytest.mark.parametrize("field", ["name", "share", "interests"])
def test_missing_required_field(tmp_path, field):
    persona = {key: value for key, value in DEVELOPER.items() if key != field}
    message = load_error(write_yaml(tmp_path, {"personas": [persona]}))
    assert "audience.yaml, persona #1" in message
    assert f"missing required field {field!r}" in message


@pytest.mark.parametrize("changes, expected", [
    ({"intrests": ["x"]}, "unknown field 'intrests'; did you mean 'interests'?"),
    ({"share": 0}, "share must be a positive number (a relative weight), not 0"),
    ({"share": -1.5}, "share must be a positive number (a relative weight), not -1.5"),
    ({"share": "lots"}, "share must be a positive number (a relative weight), not 'lots'"),
    ({"share": True}, "share must be a positive number (a relative weight), not True"),
    ({"share": float("inf")}, "share must be a positive number (a relative weight), not inf"),
    ({"tolerance": 1.5}, "tolerance must be a number from 0 to 1, not 1.5"),
    ({"bulk_tolerance": -0.1}, "bulk_tolerance must be a number from 0 to 1, not -0.1"),
    ({"disengage_speed": 2}, "disengage_speed must be a number from 0 to 1, not 2"),
    ({"tolerance": 0.2, "bulk_tolerance": 0.3},
     "'bulk_tolerance' and 'tolerance' are the same field; give one"),
    ({"market": "b2g"}, "market must be b2c or b2b, not 'b2g'"),
    ({"interests": []}, "interests needs at least one statement, not []"),
    ({"interests": "python"}, "interests must be a list of strings"),
    ({"interests": ["python", 3]}, "interests must be a list of strings"),
    ({"interests": ["python", "  "]}, "interests has an empty statement: ['python', '  ']"),
    ({"disinterests": [""]}, "disinterests has an empty statement: ['']"),
    ({"name": "  "}, "name must be a non-empty string, not '  '"),
    ({"description": 5}, "description must be a string, not 5"),
    ({"engaged": "a newsletter"}, "engaged must be a list of messages"),
    ({"engaged": [{"subject": "Hi", "body": "Hello.", "sendr": "x"}]},
     "engaged #1: unknown field 'sendr'; did you mean 'sender'?"),
    ({"ignored": [{"subject": "Hi"}]}, "ignored #1: missing required field 'body'"),
    ({"ignored": [{"subject": "Hi", "body": "Hello.", "bulk": "yes"}]},
     "ignored #1: bulk must be true or false, not 'yes'"),
], ids=lambda value: None if isinstance(value, str) else "-".join(map(str, value)))
def test_bad_persona_field(tmp_path, changes, expected):
    message = load_error(write_yaml(tmp_path, {"personas": [{**DEVELOPER, **changes}]}))
    assert message.startswith(f"{tmp_path / 'audience.yaml'}, persona #1")
    assert expected in message


@pytest.mark.parametrize("text, expected", [
    ("segment,share,interests,tolerance\n", "header: missing required column 'disinterests'"),
    ("segment,share,interests,disinterests,tolerance,colour\n",
     "header: unknown column 'colour'; known: segment"),
    ("segment,share,intrests,disinterests,tolerance\n",
     "header: unknown column 'intrests'; did you mean 'interests'?"),
    ("segment,share,interests,disinterests,tolerance,share\n",
     "header: column 'share' appears more than once"),
    ("segment,share,interests,disinterests,tolerance\n\ndev,1,x,y\n",
     "line 3: 4 cells, but the header names 5 columns"),
    ("segment,share,interests,disinterests,tolerance\ndev,1,x,,0.5\ncook,-2,x,,0.5\n",
     "line 3 ('cook'): share must be a positive number (a relative weight), not '-2'"),
    ("segment,share,interests,disinterests,tolerance\ndev,1,x,,high\n",
     "line 2 ('dev'): tolerance must be a number from 0 to 1, not 'high'"),
    ("segment,share,interests,disinterests,tolerance\ndev,1, ; ,,0.5\n",
     "line 2 ('dev'): interests needs at least one statement"),
    ("segment,share,interests,disinterests,tolerance\ndev,1,x,,0.5\ndev,1,y,,0.5\n",
     "line 3 ('dev'): the name 'dev' is already used by line 2 ('dev')"),
    ("segment,share,interests,disinterests,tolerance\n", "no personas"),
], ids=["missing-column", "unknown-column", "misspelt-column", "repeated-column",
        "cell-count", "share", "tolerance", "no-interests", "duplicate", "no-rows"])
def test_bad_csv(tmp_path, text, expected):
    message = load_error(write(tmp_path / "list.csv", text))
    assert "list.csv" in message and expected in message


def test_every_mistake_in_an_audience_file_is_reported_at_once(tmp_path):
    path = write_yaml(tmp_path, {"personas": [
        {**DEVELOPER, "share": -1, "tolerance": 3},
        {"name": "cook", "interests": ["recipes"], "markt": "b2c"},
        {**DEVELOPER, "engaged": [{"subject": "Hi"}]},
    ]})
    message = load_error(path)
    assert message.startswith("5 problems:")
    for expected in ("persona #1 ('developer'): share must be a positive number",
                     "persona #1 ('developer'): tolerance must be a number from 0 to 1",
                     "persona #2 ('cook'): unknown field 'markt'; did you mean 'market'?",
                     "persona #2 ('cook'): missing required field 'share'",
                     "persona #3 ('developer'), engaged #1: missing required field 'body'"):
        assert expected in message, message
    assert len(message.splitlines()) == 6


def test_every_bad_csv_row_is_reported_at_once(tmp_path):
    path = write(tmp_path / "list.csv", "segment,share,interests,disinterests,tolerance\n"
                 "dev,1,python,,0.5\n"
                 "cook,zero,recipes,,0.5\n"
                 "short,1\n"
                 "gardener,1,,,7\n")
    message = load_error(path)
    assert message.startswith("4 problems:"), message
    assert "line 3 ('cook'): share must be a positive number" in message
    assert "line 4: 2 cells, but the header names 5 columns" in message
    assert "line 5 ('gardener'): interests needs at least one statement" in message
    assert "line 5 ('gardener'): tolerance must be a number from 0 to 1" in message
