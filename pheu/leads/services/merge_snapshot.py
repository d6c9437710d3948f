"""What a merge stores to be undone (``Merge.snapshot``), as typed values with their JSON form.

The JSON form is the one stored since merges exist: an object of ``leads`` (each record's row before the
merge, by id, in merge order), ``links`` (rows moved to the survivor: model label, the column, the content
type column of a generic relation, ``[pk, old lead id]`` pairs), ``kept`` (rows left on a merged-away record,
counted), ``added`` (rows the merge created, by model label) and ``after`` (the survivor's row right after the
merge). :meth:`MergeSnapshot.from_json` reads every snapshot stored so far; ``to_json`` writes the same form
(``pheu/leads/tests/test_merge_stored.py`` undoes a merge stored by the code of commit 443be09).

A row is ``{attname: value}`` over the lead's concrete fields, each value as JSON that ``field.to_python``
reads back exactly (datetimes and dates in ISO 8601 with their microseconds, decimals as strings).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import models

from pheu.leads.models import Lead

# A JSON value (what ``json.loads`` gives).
JSONValue = Any


def encode(value: Any) -> JSONValue:
    """``value`` as JSON that ``field.to_python`` reads back exactly (microseconds and decimals included)."""
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def lead_fields() -> list[models.Field[Any, Any]]:
    """The columns of a lead's row in a snapshot: every concrete field but the primary key."""
    return [f for f in Lead._meta.concrete_fields if not f.primary_key]


def lead_row(lead: Lead) -> dict[str, JSONValue]:
    """``lead``'s row as a snapshot stores it."""
    return {f.attname: encode(getattr(lead, f.attname)) for f in lead_fields()}


@dataclass(frozen=True)
class LeadRow:
    """A record's row as it was before the merge."""

    lead_id: int
    values: Mapping[str, JSONValue]

    @classmethod
    def of(cls, lead: Lead) -> LeadRow:
        return cls(lead.pk, lead_row(lead))

    def to_lead(self, current: Lead) -> Lead:
        """A new instance holding this row; a column the row does not have (a field added since the merge)
        keeps its value in ``current``."""
        lead = Lead(pk=self.lead_id)
        for field in lead_fields():
            name = field.attname
            value = field.to_python(self.values[name]) if name in self.values else getattr(current, name)
            setattr(lead, name, value)
        return lead


@dataclass(frozen=True)
class MovedRows:
    """Rows of ``model`` whose column ``field`` held a merged-away record's id, moved to the survivor."""

    model: str  # the model's label, "app_label.ModelName"
    field: str  # the column's attname
    content_type_field: str  # of a generic relation, the attname of its content type; "" otherwise
    rows: tuple[tuple[int, int], ...]  # (row pk, the record it pointed to)

    def to_json(self) -> dict[str, JSONValue]:
        return {
            "model": self.model,
            "field": self.field,
            "ct": self.content_type_field,
            "rows": [[pk, old] for pk, old in self.rows],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, JSONValue]) -> MovedRows:
        rows = tuple((int(pk), int(old)) for pk, old in data["rows"])
        return cls(str(data["model"]), str(data["field"]), str(data.get("ct", "")), rows)


@dataclass(frozen=True)
class KeptRows:
    """Rows of ``model`` left on merged-away records: ``field`` is part of a uniqueness constraint, so moving
    them could collide."""

    model: str
    field: str
    count: int

    def to_json(self) -> dict[str, JSONValue]:
        return {"model": self.model, "field": self.field, "count": self.count}

    @classmethod
    def from_json(cls, data: Mapping[str, JSONValue]) -> KeptRows:
        return cls(str(data["model"]), str(data["field"]), int(data["count"]))


@dataclass(frozen=True)
class AddedRows:
    """Rows of ``model`` the merge created (the survivor's share of a many-to-many union)."""

    model: str
    pks: tuple[int, ...]

    def to_json(self) -> dict[str, JSONValue]:
        return {"model": self.model, "pks": list(self.pks)}

    @classmethod
    def from_json(cls, data: Mapping[str, JSONValue]) -> AddedRows:
        return cls(str(data["model"]), tuple(int(pk) for pk in data["pks"]))


@dataclass(frozen=True)
class MergeSnapshot:
    """Everything a merge changed, as it was, and the survivor right after it."""

    leads: tuple[LeadRow, ...]  # in merge order: the survivor first
    moved: tuple[MovedRows, ...]
    kept: tuple[KeptRows, ...]
    added: tuple[AddedRows, ...]
    after: Mapping[str, JSONValue]  # the survivor's row right after the merge

    def to_json(self) -> dict[str, JSONValue]:
        return {
            "leads": {str(row.lead_id): dict(row.values) for row in self.leads},
            "links": [moved.to_json() for moved in self.moved],
            "kept": [kept.to_json() for kept in self.kept],
            "added": [added.to_json() for added in self.added],
            "after": dict(self.after),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, JSONValue]) -> MergeSnapshot:
        return cls(
            leads=tuple(LeadRow(int(pk), row) for pk, row in data["leads"].items()),
            moved=tuple(MovedRows.from_json(item) for item in data.get("links", ())),
            kept=tuple(KeptRows.from_json(item) for item in data.get("kept", ())),
            added=tuple(AddedRows.from_json(item) for item in data.get("added", ())),
            after=data.get("after", {}),
        )
