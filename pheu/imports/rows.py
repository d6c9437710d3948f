"""Turning one file row into the values of a lead: parse, check, resolve relations, normalise.

Relations are resolved from maps loaded once per import (countries, teams, salespeople, stages) or filled
as names appear (tags, campaigns, sources, mediums: created when missing, as people expect of an import).
A row gives either its values or every problem found in it (column and reason); it is never half-read.
A value that cannot be normalised never costs the row its record: an invalid e-mail or phone is kept as
typed (its matching key left empty), an unknown country, team or choice, a number or date that cannot be
read, a text too long are left out or cut — each reported as a *warning* (row, column, value, reason).
Reasons are :class:`~pheu.imports.reasons.Reason` codes, worded when the report is read, in the reader's
language.
A row is refused (an *error*) only when its record cannot exist: no name and nothing to make one from,
an unknown stage or salesperson, an external id already on another row.
The matching keys are computed by ``Lead.normalize`` itself, so imported rows have exactly the keys a
saved record has.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Iterable, Iterator, Mapping
from concurrent.futures import Executor, Future
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from types import SimpleNamespace
from typing import Any

from django.db.models import CharField, Model, TextField
from django.utils import timezone, translation

from pheu.accounts.models import User
from pheu.contacts.countries import country_codes
from pheu.contacts.models import Tag
from pheu.core.models import PheuSettings
from pheu.imports.choices import ImportKind
from pheu.imports.keys import Keys
from pheu.imports.readers import Cell
from pheu.imports.reasons import CHOICE_FIELDS, Reason
from pheu.leads.choices import CustomerType, LeadPriority, LeadType, WonStatus
from pheu.leads.models import (
    EDITABLE_FIELDS,
    KEY_COLUMNS,
    KEY_SOURCES,
    Campaign,
    Lead,
    Medium,
    Source,
    Stage,
)
from pheu.lib.emails import split_display_name
from pheu.lib.html import sanitize_html
from pheu.lib.text import text_key
from pheu.teams.models import Team

# Fields read as plain text (cut to their length): the lead's editable text fields, but those read as
# something else (a language code, sanitised HTML).
TEXT_FIELDS: tuple[str, ...] = tuple(
    f.name
    for f in Lead._meta.concrete_fields
    if f.name in EDITABLE_FIELDS
    and isinstance(f, CharField | TextField)
    and not f.choices
    and f.name not in ("language", "description")
)
_TEXT_FIELD_SET = frozenset(TEXT_FIELDS)
UTM_MODELS: dict[str, type[Model]] = {"campaign": Campaign, "source": Source, "medium": Medium}
LANGUAGES = {
    "vi": "vi",
    "vietnamese": "vi",
    "tieng viet": "vi",
    "en": "en",
    "english": "en",
    "tieng anh": "en",
}
KEY_BATCH = 2000  # rows per call of compute_keys
_TAG_SPLIT = re.compile(r"[,;]")
_DATE_FORMATS = ("%Y-%m-%d", "%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y", "%Y/%m/%d")


class RowProblem(Exception):
    """The row cannot be imported: ``reason`` says why."""

    def __init__(self, reason: Reason) -> None:
        super().__init__(reason.code)
        self.reason = reason


class ValueWarning(RowProblem):
    """The row is imported with ``value`` in place of what was typed: kept as typed or cut, or (``left_out``)
    the field's default — a re-import then leaves the record's own value as it is."""

    def __init__(self, reason: Reason, value: Any = None, *, left_out: bool = True) -> None:
        super().__init__(reason)
        self.value = value
        self.left_out = left_out


# The attnames a field left out of a row stands for (the others are their own).
LEFT_OUT_ATTNAMES: dict[str, tuple[str, ...]] = {
    "team": ("team_id",),
    "country": ("country_id",),
    "campaign": ("campaign_id",),
    "source": ("source_id",),
    "medium": ("medium_id",),
    "type": ("type", "converted_at"),
    "probability": ("probability", "auto_probability"),
}

# Where a name comes from when the name cell is empty (the web form does the same).
NAME_SOURCES = ("contact_name", "company_name", "email", "phone", "mobile")


@dataclass
class ParsedRow:
    """A row ready to write: ``values`` are Lead attnames (keys included), ``tag_ids`` None when the file
    has no tags column, ``given`` the fields the file sets (an update changes only those), ``warnings``
    the values kept as typed or left out (column header, value, reason), ``left_out`` the attnames an
    update must not change (their value could not be read)."""

    row: int
    values: dict[str, Any]
    tag_ids: list[int] | None
    given: frozenset[str] = field(default_factory=frozenset)
    warnings: list[tuple[str, str, Reason]] = field(default_factory=list)
    left_out: frozenset[str] = field(default_factory=frozenset)


@dataclass
class RowErrors:
    row: int
    problems: list[tuple[str, str, Reason]]  # (column header, value, reason)


def _choice_index(choices: Any) -> dict[str, Any]:
    index: dict[str, Any] = {}
    for value, label in choices.choices:
        index[text_key(str(value))] = value
        for language in ("en", "vi"):
            with translation.override(language):
                index.setdefault(text_key(str(label)), value)
    return index


def parse_decimal(text: str) -> Decimal:
    """A number as people type it: "1.500.000", "1,500,000.50", "1 500 000 ₫", "12,5"."""
    cleaned = re.sub(r"[\s₫đ$%]|vnd|usd", "", text.lower())
    if "," in cleaned and "." in cleaned:
        decimal_mark = "," if cleaned.rindex(",") > cleaned.rindex(".") else "."
        thousands = "." if decimal_mark == "," else ","
        cleaned = cleaned.replace(thousands, "").replace(decimal_mark, ".")
    else:
        for mark in (",", "."):
            count = cleaned.count(mark)
            if count > 1 or (count == 1 and len(cleaned) - cleaned.index(mark) - 1 == 3):
                cleaned = cleaned.replace(mark, "")  # thousands separators (vi: 1.500, en: 1,500)
            elif count == 1:
                cleaned = cleaned.replace(mark, ".")
    try:
        value = Decimal(cleaned)
    except InvalidOperation as exc:
        raise RowProblem(Reason("not_a_number")) from exc
    if not value.is_finite():
        raise RowProblem(Reason("not_a_number"))
    return value


def parse_date(cell: Cell) -> date:
    if isinstance(cell, datetime):
        return cell.date()
    if isinstance(cell, date):
        return cell
    text = str(cell).strip()[:10] if isinstance(cell, str) and "T" in str(cell) else str(cell).strip()
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise RowProblem(Reason("not_a_date"))


def _text(cell: Cell) -> str:
    if cell.__class__ is str:  # every cell of a CSV file: the rest is for spreadsheets
        return cell.strip()  # type: ignore[union-attr]  # a str, as just checked
    if cell is None:
        return ""
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))
    if isinstance(cell, datetime | date):
        return cell.isoformat()
    return str(cell).strip()


class RowReader:
    """Reads the rows of one import. Build once per run (loads the relation maps: a few queries)."""

    def __init__(
        self, *, kind: str, headers: list[str], mapping: Mapping[str, str], team: Team | None, actor: Any
    ) -> None:
        self.kind = kind
        self.headers = headers
        self.columns = sorted((int(position), name) for position, name in mapping.items())
        self.given = frozenset(name for _p, name in self.columns)
        self.team = team
        self.actor_id = actor.pk if getattr(actor, "is_authenticated", False) else None
        self.now = timezone.now()
        self.keys = Keys()
        self.seen_external_ids: dict[str, int] = {}
        self.max_lengths: dict[str, int] = {
            f.name: f.max_length for f in Lead._meta.concrete_fields if f.max_length is not None
        }
        self.choices = {name: _choice_index(choices) for name, choices in CHOICE_FIELDS.items()}
        self.countries = country_codes()
        self.teams = {text_key(name): pk for pk, name in Team.objects.values_list("pk", "name")}
        self.users: dict[str, int] = {}
        for pk, username, first, last in User.objects.filter(is_active=True).values_list(
            "pk", "username", "first_name", "last_name"
        ):
            self.users[username.lower()] = pk
            for full in (f"{first} {last}", f"{last} {first}"):
                if full.strip():
                    self.users.setdefault(text_key(full), pk)
        self.stages: dict[tuple[str, int | None], Stage] = {}
        self.first_stage: dict[int | None, Stage | None] = {}
        for stage in Stage.objects.order_by("sequence", "id"):
            self.stages.setdefault((text_key(stage.name), stage.team_id), stage)
        team_use_leads = dict(Team.objects.values_list("pk", "use_leads"))
        self.team_use_leads = team_use_leads
        self.use_leads = PheuSettings.load().use_leads
        self.tags = {text_key(name): pk for pk, name in Tag.objects.values_list("pk", "name")}
        self.utm = {
            name: {text_key(n): pk for pk, n in model.objects.values_list("pk", "name")}  # type: ignore[attr-defined]
            for name, model in UTM_MODELS.items()
        }

    # --- relations -----------------------------------------------------------------------------------
    def _named(self, table: dict[str, int], model: type[Model], text: str, max_length: int) -> int:
        key = self.keys.text_key(text)
        pk = table.get(key)
        if pk is None:
            if len(text) > max_length:
                raise RowProblem(Reason("too_long", {"n": max_length}))
            pk = model.objects.create(name=text).pk  # type: ignore[attr-defined]
            table[key] = pk
        return pk

    def _stage(self, text: str, team_id: int | None) -> Stage:
        key = self.keys.text_key(text)
        stage = self.stages.get((key, team_id)) or self.stages.get((key, None))
        if stage is None:
            raise RowProblem(Reason("unknown_stage"))
        return stage

    def _first_stage(self, team_id: int | None) -> Stage | None:
        if team_id not in self.first_stage:
            stages = [s for (_k, t), s in self.stages.items() if t in (team_id, None)]
            stages.sort(key=lambda s: (s.sequence, s.pk))
            self.first_stage[team_id] = stages[0] if stages else None
        return self.first_stage[team_id]

    # --- rows ----------------------------------------------------------------------------------------
    def read(self, number: int, cells: list[Cell]) -> ParsedRow | RowErrors:
        """One row, its keys included."""
        result = self._parse(number, cells)
        if isinstance(result, ParsedRow):
            self._apply_keys(result, compute_keys([self._sources(result)], self.keys)[0])
        return result

    def read_all(
        self, rows: Iterable[tuple[int, list[Cell]]], *, pool: Executor | None = None, batch: int = 0
    ) -> Iterator[ParsedRow | RowErrors]:
        """The rows of ``rows`` read, in their order, their keys computed in bulk: ``batch`` rows at a time
        (:func:`compute_keys`), in the processes of ``pool`` while this one reads the next rows (at most
        two batches per worker in flight, so memory stays flat), or here without a pool."""
        batch = batch or KEY_BATCH
        pending: deque[tuple[list[ParsedRow | RowErrors], list[ParsedRow], Any]] = deque()
        depth = 2 * getattr(pool, "_max_workers", 1) if pool is not None else 0

        def submit(chunk: list[ParsedRow | RowErrors]) -> None:
            parsed = [row for row in chunk if isinstance(row, ParsedRow)]
            sources = [self._sources(row) for row in parsed]
            job = pool.submit(compute_keys, sources) if pool is not None else compute_keys(sources, self.keys)
            pending.append((chunk, parsed, job))

        def done() -> list[ParsedRow | RowErrors]:
            chunk, parsed, job = pending.popleft()
            keys = job.result() if isinstance(job, Future) else job
            for row, row_keys in zip(parsed, keys, strict=True):
                self._apply_keys(row, row_keys)
            return chunk

        chunk: list[ParsedRow | RowErrors] = []
        for number, cells in rows:
            chunk.append(self._parse(number, cells))
            if len(chunk) >= batch:
                submit(chunk)
                chunk = []
                while len(pending) > depth:
                    yield from done()
        if chunk:
            submit(chunk)
        while pending:
            yield from done()

    @staticmethod
    def _sources(row: ParsedRow) -> tuple[str, ...]:
        values = row.values
        return tuple([values.get(name) or "" for name in _KEY_SOURCES])

    def _apply_keys(self, row: ParsedRow, keys: tuple[str, ...]) -> None:
        """Set the row's keys; an invalid phone or mobile (no E.164 key) is a warning."""
        values = row.values
        values.update(zip(_KEYS, keys, strict=True))
        for name in ("phone", "mobile"):
            if values.get(name) and not values[f"{name}_e164"]:
                row.warnings.append(
                    (
                        self._header(name),
                        values[name],
                        Reason("invalid_phone"),
                    )
                )

    def _parse(self, number: int, cells: list[Cell]) -> ParsedRow | RowErrors:
        """One row without its keys (:meth:`_apply_keys`)."""
        values: dict[str, Any] = {}
        problems: list[tuple[str, str, Reason]] = []
        warnings: list[tuple[str, str, Reason]] = []
        left_out: list[str] = []
        tag_ids: list[int] | None = None
        stage_text = ""
        self._email_name = ""
        for position, name in self.columns:
            cell = cells[position] if position < len(cells) else None
            raw = _text(cell)
            try:
                if name == "stage":
                    stage_text = raw
                elif name == "tags":
                    tag_ids = self._tags(raw, warnings, self.headers[position] or name)
                else:
                    values[name] = self._value(name, cell, raw)
            except ValueWarning as warning:
                values[name] = warning.value
                if warning.left_out:
                    left_out.append(name)
                warnings.append((self.headers[position] or name, raw, warning.reason))
            except RowProblem as problem:
                problems.append((self.headers[position] or name, raw, problem.reason))
        if self._email_name and not values.get("contact_name"):
            values["contact_name"] = self._email_name[: self.max_lengths["contact_name"]]
        if not values.get("name"):
            source = next((n for n in NAME_SOURCES if values.get(n)), None)
            if source is None:
                problems.append((self._header("name"), "", Reason("name_required")))
            else:
                values["name"] = str(values[source])[: self.max_lengths["name"]]
        external_id = values.get("external_id")
        if external_id:
            first = self.seen_external_ids.setdefault(external_id, number)
            if first != number:
                problems.append(
                    (
                        self._header("external_id"),
                        external_id,
                        Reason("duplicate_external_id", {"row": first}),
                    )
                )
        if not problems:
            try:
                self._complete(values, stage_text, warnings)
            except RowProblem as problem:
                problems.append((self._header("stage"), stage_text, problem.reason))
        if problems:
            return RowErrors(number, problems)
        if not values.get("external_id"):
            values["external_id"] = None
        skipped = frozenset(a for name in left_out for a in LEFT_OUT_ATTNAMES.get(name, (name,)))
        return ParsedRow(number, values, tag_ids, self.given, warnings, skipped)

    def _header(self, name: str) -> str:
        for position, field_name in self.columns:
            if field_name == name:
                return self.headers[position] or name
        return name

    def _tags(self, raw: str, warnings: list[tuple[str, str, Reason]], header: str) -> list[int]:
        ids = []
        for part in _TAG_SPLIT.split(raw):
            name = part.strip()
            if name:
                try:
                    ids.append(self._named(self.tags, Tag, name, 60))
                except RowProblem as problem:
                    warnings.append((header, name, Reason("tag_left_out", {"reason": problem.reason})))
        return list(dict.fromkeys(ids))

    def _value(self, name: str, cell: Cell, raw: str) -> Any:
        if name in _TEXT_FIELD_SET:
            limit = self.max_lengths[name]
            if len(raw) > limit:
                if name == "external_id":  # an id cut is another id: the row cannot be matched
                    raise RowProblem(Reason("too_long", {"n": limit}))
                raise ValueWarning(Reason("cut", {"n": limit}), raw[:limit], left_out=False)
            if name == "email" and "<" in raw and (parts := split_display_name(raw)) is not None:
                self._email_name, raw = parts  # "Tên <x@y.vn>": the address; the name for the contact
            if name == "email" and raw and not self.keys.email_is_valid(raw):
                raise ValueWarning(Reason("invalid_email"), raw, left_out=False)
            return raw
        if not raw:
            return _EMPTY.get(name)
        text_key = self.keys.text_key
        if name in CHOICE_FIELDS:
            value = self.choices[name].get(text_key(raw))
            if value is None:
                # The field, not its values: they are listed in the language of whoever reads the report.
                raise ValueWarning(Reason("not_a_choice", {"field": name}), _EMPTY.get(name))
            return value
        if name == "description":
            return sanitize_html(raw)
        if name == "language":
            language = LANGUAGES.get(text_key(raw))
            if language is None and len(raw) > 8:
                raise ValueWarning(Reason("unknown_language"), "")
            return language or raw
        if name == "country":
            code = self.countries.get(text_key(raw))
            if code is None:
                raise ValueWarning(Reason("unknown_country"), None)
            return code
        if name == "team":
            pk = self.teams.get(text_key(raw))
            if pk is None:
                raise ValueWarning(Reason("unknown_team"), None)
            return pk
        if name == "user":
            pk = self.users.get(raw.lower()) or self.users.get(text_key(raw))
            if pk is None:
                raise RowProblem(Reason("unknown_user"))
            return pk
        if name in UTM_MODELS:
            try:
                return self._named(self.utm[name], UTM_MODELS[name], raw, 100)
            except RowProblem as problem:
                raise ValueWarning(problem.reason, None) from problem
        try:
            return self._typed(name, cell, raw)
        except ValueWarning:
            raise
        except RowProblem as problem:
            raise ValueWarning(Reason("left_out", {"reason": problem.reason}), None) from problem

    def _typed(self, name: str, cell: Cell, raw: str) -> Any:
        """Dates and numbers (a problem: the value is left out, the row imported)."""
        if name == "expected_close_date":
            return parse_date(cell)
        if name == "company_size":
            number = cell if isinstance(cell, int | float) else parse_decimal(raw)
            if number != int(number) or number < 0 or number > 2_000_000_000:
                raise RowProblem(Reason("not_employees"))
            return int(number)
        number = Decimal(str(cell)) if isinstance(cell, int | float) else parse_decimal(raw)
        if name == "probability":
            if not 0 <= number <= 100:
                raise RowProblem(Reason("probability_range"))
            return number.quantize(Decimal("0.01"))
        # amount, expected_revenue
        if number < 0:
            raise RowProblem(Reason("negative"))
        if number >= Decimal("1e16"):
            raise RowProblem(Reason("too_large"))
        return number.quantize(Decimal("0.01"))

    def _complete(
        self, values: dict[str, Any], stage_text: str, warnings: list[tuple[str, str, Reason]]
    ) -> None:
        """Defaults and derived values, as ``create_lead`` gives them (the matching keys come after)."""
        team_id = values.pop("team", None) or (self.team.pk if self.team else None)
        values["team_id"] = team_id
        values["user_id"] = values.pop("user", None)
        values["country_id"] = values.pop("country", None)
        for name in UTM_MODELS:
            values[f"{name}_id"] = values.pop(name, None)
        if values.get("type") is None:
            if self.kind == ImportKind.OPPORTUNITIES:
                values["type"] = LeadType.OPPORTUNITY
            else:
                use = self.team_use_leads.get(team_id) if team_id else None
                values["type"] = (
                    LeadType.LEAD if (self.use_leads if use is None else use) else (LeadType.OPPORTUNITY)
                )
        stage = self._stage(stage_text, team_id) if stage_text else None
        if stage is None and values["type"] == LeadType.OPPORTUNITY:
            stage = self._first_stage(team_id)
        values["stage_id"] = stage.pk if stage else None
        values["stage_changed_at"] = self.now if stage else None
        values["won_status"] = WonStatus.OPEN
        values["closed_at"] = None
        if stage is not None and stage.is_won:
            values["won_status"] = WonStatus.WON
            values["probability"] = Decimal(100)
            values["closed_at"] = self.now
        elif values.get("probability") is None:
            values["probability"] = stage.probability if stage else Decimal(0)
        values["auto_probability"] = "probability" not in self.given or values["won_status"] == WonStatus.WON
        values["assigned_at"] = self.now if values["user_id"] else None
        values["converted_at"] = self.now if values["type"] == LeadType.OPPORTUNITY else None
        for name, default in _EMPTY.items():
            if values.get(name) is None:
                values[name] = default


_EMPTY: dict[str, Any] = {
    **{name: "" for name in TEXT_FIELDS if name != "external_id"},
    "language": "",
    "industry": "",
    "rating": "",
    "description": "",
    "priority": LeadPriority.NORMAL,
    "customer_type": CustomerType.NEW,
}
_KEY_SOURCES = KEY_SOURCES  # what Lead.normalize reads
_KEYS = (*KEY_COLUMNS, "match_keys")  # and the matcher's blocking keys (pheu.leads.matching.match_keys_of)


_worker_keys: Keys | None = None


def compute_keys(sources: list[tuple[str, ...]], keys: Keys | None = None) -> list[tuple[str, ...]]:
    """The matching keys (:data:`_KEYS`) of rows given by their key sources (:data:`_KEY_SOURCES`), as
    ``Lead.normalize`` computes them, with ``keys``' memoised functions (in a worker process of the
    import's pool: that process's own, built once)."""
    global _worker_keys
    if keys is None:
        if _worker_keys is None:
            _worker_keys = Keys()
        keys = _worker_keys
    normalize = keys.normalize
    out: list[tuple[str, ...]] = []
    for values in sources:
        record = SimpleNamespace(**dict(zip(_KEY_SOURCES, values, strict=True)))
        normalize(record)
        out.append(tuple(getattr(record, name) for name in _KEYS))
    return out
