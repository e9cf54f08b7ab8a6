"""Audiences for the campaign simulator: who is on a sender's list, and what they want.

An audience is a list of personas. Each is one segment of the population: its share, the
interest and disinterest statements its readers would type into a settings box, example
messages they engaged with or ignored, how much bulk mail they put up with and how fast
they give up on a sender. The simulator builds one gatekeeper per persona from these and
sends a campaign through each.

`default_audience()` is the built-in list, `gatekeeper/campaign/audiences/default.yaml`, which is
also the commented reference of the format. `load_audience(path)` reads a custom one.

YAML (.yaml or .yml)::

    name: spring list                 # optional; the file name when absent
    personas:                         # at least one
      - name: software developer      # required, unique
        description: Maintains Python services.     # optional, one sentence
        share: 3                      # required, > 0
        market: b2b                   # b2c (default) or b2b
        tolerance: 0.3                # alias of bulk_tolerance: 0..1, default 0.5
        disengage_speed: 0.7          # 0..1, default 0.5
        interests: [python packaging, open source release notes]   # required, >= 1
        disinterests: [discount fashion sales]                      # optional
        engaged:                      # optional: messages they read or replied to
          - subject: Release v2.4.0 of sqlparse-lite                 # required
            body: Adds window functions and drops the old API.       # required
            sender: Forgeworks <notifications@forgeworks.example>    # optional
            bulk: true                # optional, default true; false: personal mail
        ignored: []                   # optional: messages they deleted unread

CSV (.csv): a header row, then one persona per row. Columns segment, share, interests,
disinterests and tolerance are required; description, disengage_speed and market are
optional. Separate the statements within a cell with ";". CSV personas have no examples.

Shares are relative weights: they need not sum to 1 (`Audience.shares()` normalises
them), so "3" and "1" mean three quarters and one quarter.

Anything wrong raises `AudienceError`, naming the file, the persona (or CSV line), the
field, the bad value and what is allowed; every mistake in the personas is reported at
once, one per line, so a file is fixed in one pass.
"""

from __future__ import annotations

import csv
import difflib
import io
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import MISSING, dataclass, fields
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, NoReturn

import numpy as np
import yaml

from ..errors import AudienceError

MARKETS = ("b2c", "b2b")
YAML_SUFFIXES = (".yaml", ".yml")
CSV_SUFFIX = ".csv"
DEFAULT_AUDIENCE_FILE = "default.yaml"


@dataclass(frozen=True)
class Example:
    """A message a persona engaged with or ignored (written by us, not real mail)."""

    subject: str
    body: str
    sender: str = ""  # display name and address, "Orbital Weekly <news@orbital.example>"
    bulk: bool = True  # newsletter or marketing (True), personal or transactional (False)


@dataclass(frozen=True)
class Persona:
    """One segment of an audience: who they are and how their gatekeeper learns."""

    name: str  # segment name, unique within the audience, e.g. "software developer"
    description: str  # one sentence
    share: float  # relative weight in the population, > 0
    interests: tuple[str, ...]  # plain-language statements, at least one
    disinterests: tuple[str, ...]  # may be empty
    engaged: tuple[Example, ...] = ()  # messages they read or replied to
    ignored: tuple[Example, ...] = ()  # messages they deleted unread
    bulk_tolerance: float = 0.5  # 0..1: how much bulk mail they put up with
    disengage_speed: float = 0.5  # 0..1: how quickly ignored mail turns into deleting unread
    market: str = "b2c"  # "b2c" or "b2b"


@dataclass(frozen=True)
class Audience:
    """A named list of personas, in the order they were given."""

    name: str
    personas: tuple[Persona, ...]

    def shares(self) -> np.ndarray:
        """Each persona's share of the population, normalised to sum to 1."""
        weights = np.array([persona.share for persona in self.personas], dtype=float)
        return weights / weights.sum()

    def allocate(self, recipients: int) -> list[int]:
        """Recipients per persona, in persona order, summing exactly to `recipients`.

        Largest-remainder rounding of the proportional quotas. When there are at least as
        many recipients as personas, every persona with a share gets at least one, taken
        from whoever is furthest above their quota: a small segment is never silently
        left out of a simulation.
        """
        if recipients < 0:
            raise ValueError(f"recipients must be 0 or more, not {recipients}")
        quotas = self.shares() * recipients
        counts = np.floor(quotas).astype(int)
        by_remainder = np.argsort(counts - quotas, kind="stable")  # largest remainder first
        counts[by_remainder[: recipients - counts.sum()]] += 1
        present = np.array([persona.share > 0 for persona in self.personas])
        if recipients >= len(self.personas):
            for needy in np.flatnonzero(present & (counts == 0)):
                surplus = np.where(counts > 1, counts - quotas, -np.inf)
                counts[np.argmax(surplus)] -= 1
                counts[needy] += 1
        return counts.tolist()


@cache
def default_audience() -> Audience:
    """The built-in audience shipped inside the package (audiences/default.yaml)."""
    resource = resources.files("gatekeeper.campaign") / "audiences" / DEFAULT_AUDIENCE_FILE
    return _parse_yaml(resource.read_text(encoding="utf-8"),
                       f"built-in audience {DEFAULT_AUDIENCE_FILE}", "default")


def load_audience(path: Path | None) -> Audience:
    """The audience in a YAML or CSV file (by its suffix), or the built-in one for None."""
    if path is None:
        return default_audience()
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (*YAML_SUFFIXES, CSV_SUFFIX):
        found = repr(suffix) if suffix else "no suffix"
        _fail(str(path), f"an audience file must end in .yaml, .yml or .csv, not {found}")
    try:
        text = path.read_text(encoding="utf-8-sig")  # -sig: spreadsheets write a BOM
    except (OSError, UnicodeDecodeError) as error:
        reason = getattr(error, "strerror", None) or str(error)
        raise AudienceError(f"{path}: cannot read the audience file: {reason}") from error
    parse = _parse_csv if suffix == CSV_SUFFIX else _parse_yaml
    return parse(text, str(path), path.stem)


# -- reading the two formats: each yields (place in the file, raw fields) per persona --

TOP_LEVEL_FIELDS = ("name", "personas")


def _parse_yaml(text: str, source: str, default_name: str) -> Audience:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        _fail(source, _describe_yaml_error(error, text))
    if not isinstance(data, Mapping):
        _fail(source, f"the top level must be a mapping with {' and '.join(TOP_LEVEL_FIELDS)}, "
                      f"not {_kind(data)}")
    _check_names(data.keys(), TOP_LEVEL_FIELDS, source)
    name = data.get("name", default_name)
    if not isinstance(name, str) or not name.strip():
        _fail(source, f"name must be a non-empty string, not {name!r}")
    personas = data.get("personas")
    if personas is not None and not isinstance(personas, list):
        _fail(source, f"personas must be a list of mappings, not {_kind(personas)}")
    records = []
    for number, raw in enumerate(personas or (), 1):
        if not isinstance(raw, Mapping):
            _fail(f"{source}, persona #{number}",
                  f"a persona must be a mapping of fields, not {raw!r}")
        records.append((_place(f"persona #{number}", raw.get("name")), raw))
    return _build_audience(name.strip(), source, records)


def _describe_yaml_error(error: yaml.YAMLError, text: str) -> str:
    mark = getattr(error, "problem_mark", None)
    problem = getattr(error, "problem", None) or str(error)
    if mark is None:
        return f"not valid YAML: {problem}"
    lines = text.splitlines()
    shown = f": {lines[mark.line].strip()!r}" if mark.line < len(lines) else ""
    return f"not valid YAML at line {mark.line + 1}{shown}: {problem}"


CSV_REQUIRED_COLUMNS = ("segment", "share", "interests", "disinterests", "tolerance")
CSV_OPTIONAL_COLUMNS = ("description", "disengage_speed", "market")
CSV_STATEMENT_COLUMNS = ("interests", "disinterests")
CSV_STATEMENT_SEPARATOR = ";"


def _parse_csv(text: str, source: str, default_name: str) -> Audience:
    reader = csv.reader(io.StringIO(text))
    columns = [column.strip().lower() for column in next(reader, [])]
    _check_names(columns, CSV_REQUIRED_COLUMNS + CSV_OPTIONAL_COLUMNS, f"{source}, header",
                 required=CSV_REQUIRED_COLUMNS, noun="column")
    repeated = sorted({column for column in columns if columns.count(column) > 1})
    if repeated:
        _fail(f"{source}, header", f"column {repeated[0]!r} appears more than once")
    records, problems = [], []
    for row in reader:
        if not any(cell.strip() for cell in row):
            continue  # blank lines between rows
        where = f"{source}, line {reader.line_num}"
        if len(row) != len(columns):
            problems.append(f"{where}: {len(row)} cells, but the header names {len(columns)} "
                            f"columns ({', '.join(columns)})")
            continue
        cells = {column: cell.strip() for column, cell in zip(columns, row)}
        records.append((_place(f"line {reader.line_num}", cells["segment"]), _csv_fields(cells)))
    audience = None
    try:
        if records or not problems:
            audience = _build_audience(default_name, source, records)
    except AudienceError as error:
        problems.extend(error.problems)
    _raise_all(problems)
    assert audience is not None  # without problems, the personas were built
    return audience


def _csv_fields(cells: dict[str, str]) -> dict[str, Any]:
    """A CSV row as persona fields: statements split, empty optional cells left out."""
    raw: dict[str, Any] = {column: value for column, value in cells.items()
                           if value or column in CSV_REQUIRED_COLUMNS}
    for column in CSV_STATEMENT_COLUMNS:
        pieces = (piece.strip() for piece in raw[column].split(CSV_STATEMENT_SEPARATOR))
        raw[column] = [piece for piece in pieces if piece]  # tolerate a trailing ";"
    return raw


# -- checking one persona, whichever format it came from --

ALIASES = {"tolerance": "bulk_tolerance", "segment": "name"}  # the CSV's column names
PERSONA_FIELDS = tuple(f.name for f in fields(Persona))
PERSONA_REQUIRED = ("name", "share", "interests")
PERSONA_DEFAULTS = {"description": "", "disinterests": (),
                    **{f.name: f.default for f in fields(Persona) if f.default is not MISSING}}
EXAMPLE_FIELDS = tuple(f.name for f in fields(Example))


def _build_audience(name: str, source: str, records: Sequence[tuple[str, Mapping]]) -> Audience:
    if not records:
        _fail(source, "no personas: an audience needs at least one")
    personas: list[Persona] = []
    places: dict[str, str] = {}
    problems: list[str] = []
    for place, raw in records:
        where = f"{source}, {place}"
        try:
            persona = _persona(raw, where)
        except AudienceError as error:
            problems.extend(error.problems)
            continue
        if persona.name in places:
            problems.append(f"{where}: the name {persona.name!r} is already used by "
                            f"{places[persona.name]}; persona names must be unique")
            continue
        places[persona.name] = place
        personas.append(persona)
    _raise_all(problems)
    return Audience(name=name, personas=tuple(personas))


def _raise_all(problems: list[str]) -> None:
    """One AudienceError listing every problem, one per line (none: nothing happens)."""
    if not problems:
        return
    raise AudienceError(problems[0] if len(problems) == 1 else
                        f"{len(problems)} problems:\n" + "\n".join(problems), list(problems))


def _persona(raw: Mapping, where: str) -> Persona:
    """A checked persona; errors call each field what the file called it (tolerance, segment).
    Every problem of the persona is raised together."""
    problems: list[str] = []

    def collect(check, *args):
        try:
            return check(*args)
        except AudienceError as error:
            problems.extend(error.problems)
            return None

    names = [name for name in raw.keys() if name in (*PERSONA_FIELDS, *ALIASES)]
    problems += _name_problems(raw.keys(), (*PERSONA_FIELDS, *ALIASES), where)
    given, twice = _canonical_fields({name: raw[name] for name in names}, where)
    problems += twice
    problems += [f"{where}: missing required field {field!r}"
                 for field in PERSONA_REQUIRED if field not in given]
    value = {**PERSONA_DEFAULTS, **{field: v for field, (_, v) in given.items()}}
    label = {field: written for field, (written, _) in given.items()}

    def checked(field: str, check, *args):
        if field in PERSONA_REQUIRED and field not in given:
            return None  # already reported as missing
        return collect(check, value[field], where, label.get(field, field), *args)

    if value["market"] not in MARKETS:
        problems.append(f"{where}: market must be {' or '.join(MARKETS)}, "
                        f"not {value['market']!r}")
    persona = dict(
        name=checked("name", _text, True),
        description=checked("description", _text, False),
        share=checked("share", _positive),
        interests=checked("interests", _statements, True),
        disinterests=checked("disinterests", _statements, False),
        engaged=checked("engaged", _examples),
        ignored=checked("ignored", _examples),
        bulk_tolerance=checked("bulk_tolerance", _fraction),
        disengage_speed=checked("disengage_speed", _fraction),
        market=value["market"],
    )
    _raise_all(problems)
    return Persona(**persona)


def _canonical_fields(raw: Mapping, where: str) -> tuple[dict[str, tuple[str, Any]], list[str]]:
    """Field name -> (the name the file used, value), with aliases folded in; and the
    fields given twice under two names (the first one is kept)."""
    given: dict[str, tuple[str, Any]] = {}
    problems = []
    for written, value in raw.items():
        field = ALIASES.get(written, written)
        if field in given:
            problems.append(f"{where}: {written!r} and {given[field][0]!r} are the same field; "
                            "give one")
            continue
        given[field] = (written, value)
    return given, problems


def _example(raw: Any, where: str) -> Example:
    if not isinstance(raw, Mapping):
        _fail(where, f"an example must be a mapping with subject and body, not {raw!r}")
    _check_names(raw.keys(), EXAMPLE_FIELDS, where, required=("subject", "body"))
    bulk = raw.get("bulk", True)
    if not isinstance(bulk, bool):
        _fail(where, f"bulk must be true or false, not {bulk!r}")
    return Example(subject=_text(raw["subject"], where, "subject", False),
                   body=_text(raw["body"], where, "body", True),
                   sender=_text(raw.get("sender", ""), where, "sender", False), bulk=bulk)


# -- field checks: each returns the clean value or raises, naming field and value --

def _text(value: Any, where: str, field: str, required: bool) -> str:
    if not isinstance(value, str) or (required and not value.strip()):
        allowed = "a non-empty string" if required else "a string"
        _fail(where, f"{field} must be {allowed}, not {value!r}")
    return value.strip()


def _number(value: Any) -> float | None:
    """The value as a finite number, or None; CSV cells arrive as text."""
    if isinstance(value, bool):  # YAML's true/false are not weights
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _positive(value: Any, where: str, field: str) -> float:
    number = _number(value)
    if number is None or number <= 0:
        _fail(where, f"{field} must be a positive number (a relative weight), not {value!r}")
    return number


def _fraction(value: Any, where: str, field: str) -> float:
    number = _number(value)
    if number is None or not 0 <= number <= 1:
        _fail(where, f"{field} must be a number from 0 to 1, not {value!r}")
    return number


def _statements(value: Any, where: str, field: str, required: bool) -> tuple[str, ...]:
    if value is None and not required:  # `disinterests:` with nothing after it
        return ()
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
        _fail(where, f"{field} must be a list of strings, like [\"open source release "
                     f"notes\", \"cycling\"], not {value!r}")
    if any(not statement.strip() for statement in value):
        _fail(where, f"{field} has an empty statement: {list(value)!r}")
    if required and not value:
        _fail(where, f"{field} needs at least one statement, not {list(value)!r}")
    return tuple(statement.strip() for statement in value)


def _examples(value: Any, where: str, field: str) -> tuple[Example, ...]:
    if value is None:
        return ()
    if not isinstance(value, (list, tuple)):
        _fail(where, f"{field} must be a list of messages (subject, body, sender, bulk), "
                     f"not {_kind(value)}")
    examples, problems = [], []
    for number, raw in enumerate(value, 1):
        try:
            examples.append(_example(raw, f"{where}, {field} #{number}"))
        except AudienceError as error:
            problems.extend(error.problems)
    _raise_all(problems)
    return tuple(examples)


# -- small helpers --

def _check_names(names: Iterable[Any], known: tuple[str, ...], where: str,
                 required: tuple[str, ...] = (), noun: str = "field") -> None:
    """Raise naming every unknown name (suggesting the closest known one) and missing one."""
    _raise_all(_name_problems(names, known, where, required, noun))


def _name_problems(names: Iterable[Any], known: tuple[str, ...], where: str,
                   required: tuple[str, ...] = (), noun: str = "field") -> list[str]:
    names = list(names)
    problems = []
    for name in names:
        if name not in known:
            close = difflib.get_close_matches(str(name), known, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else f"; known: {', '.join(known)}"
            problems.append(f"{where}: unknown {noun} {name!r}{hint}")
    problems += [f"{where}: missing required {noun} {name!r}"
                 for name in required if name not in names]
    return problems


def _place(position: str, name: Any) -> str:
    """Where a persona is in its file, with its name when it has a usable one."""
    return f"{position} ({name.strip()!r})" if isinstance(name, str) and name.strip() else position


def _kind(value: Any) -> str:
    return "nothing" if value is None else f"a {type(value).__name__} ({value!r:.60})"


def _fail(where: str, problem: str) -> NoReturn:
    raise AudienceError(f"{where}: {problem}")
