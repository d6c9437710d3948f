"""Field descriptors: what a domain may reach, under which names, and how it is read and compiled.

An app exposes its records through a :class:`Schema` in its ``rules_schema.py``; users never type ORM paths,
and nothing outside the schema is reachable. A dotted path (``partner.country.code``) walks relations
(``RELATION``, to-one) and to-many relations (``MANY``); the Odoo names people know are aliases
(``country_id``, ``tag_ids``, ``score_pageview_ids``…), per path segment.

After a relation, the segments ``name`` and ``id`` stand for the relation itself when the related schema has
no field of that name: ``team.name = 'Miền Bắc'`` is ``team = 'Miền Bắc'``, matched through the relation's
:class:`NameLookup` (accent- and case-insensitive, in any language the lookup knows).
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from django.utils.text import capfirst

from pheu.lib.text import text_key

if TYPE_CHECKING:
    from django.db.models import Model, Q

    from pheu.rules.exceptions import StrOrPromise

MAX_PATH_SEGMENTS = 5
SELF_SEGMENTS = ("name", "id")


class FieldType(StrEnum):
    TEXT = "text"
    INT = "int"
    DECIMAL = "decimal"
    BOOL = "bool"
    DATE = "date"
    DATETIME = "datetime"
    CHOICE = "choice"
    RELATION = "relation"  # to-one
    MANY = "many"  # to-many: a condition holds when any related row matches


@dataclass(frozen=True)
class Candidate:
    """A related record as a lookup offers it: its id, the folded names/codes it answers to, its label.

    ``keys`` are compared with ``NameLookup.key_fold`` of what the user typed (exact match for ``=``/``in``,
    substring for ``ilike``). ``label`` is shown by ``explain`` (lazy labels follow the active language).
    """

    id: Hashable
    keys: tuple[str, ...]
    label: StrOrPromise


@dataclass(frozen=True)
class NameLookup:
    """How a relation's records are found from a typed name or id (one query per lookup per parse).

    Exactly one of:
    - ``load_all()``: every record of a small table (stages, teams, tags, countries, users…), loaded once per
      parsed domain and matched in Python; it also serves ``ilike`` (name contains);
    - ``find(ids, keys)``: the records with one of these ids or exact keys, for large tables (customers), one
      call per condition; no ``ilike`` on the relation then.
    ``id_type`` is the type of the primary key (``str`` for countries, whose key is the ISO code).
    """

    load_all: Callable[[], Iterable[Candidate]] | None = None
    find: Callable[[tuple[Hashable, ...], tuple[str, ...]], Iterable[Candidate]] | None = None
    id_type: type = int
    key_fold: Callable[[str], str] = text_key

    def __post_init__(self) -> None:
        if (self.load_all is None) == (self.find is None):
            raise ValueError("NameLookup needs exactly one of load_all and find")

    @property
    def supports_contains(self) -> bool:
        return self.load_all is not None


@dataclass(frozen=True)
class FieldSpec:
    """One reachable field.

    - ``orm``: the ORM path from the owning schema's model (default ``name``).
    - ``key``: the ORM path (same model) of a stored column holding ``fold(value)``; required for ``ilike``
      and ``=ilike`` on text, which compare that column, so that matching is accent-insensitive and the same
      on every database. ``fold`` must be exactly what the model's ``normalize()`` stores (truncation too).
    - ``choices``: ``(value, label)`` pairs of a ``CHOICE`` field.
    - ``target``: the related :class:`Schema` (or a function returning it, for cycles and lazy models) of a
      ``RELATION``/``MANY`` field; ``lookup`` finds its records by name or id.
    - ``value_q``: for a computed ``CHOICE`` field with no column (e.g. a size band), the ``Q`` selecting the
      records whose computed value is the given one (``None``: the value is empty). The condition must
      never be NULL (guard nullable columns with ``__isnull=False``): negative operators negate it. Such a
      field takes ``=``, ``!=``, ``in`` and ``not in`` only.
    - ``aliases``: other names of the field (Odoo's ``country_id``…).
    """

    name: str
    type: FieldType
    label: StrOrPromise
    orm: str = ""
    key: str | None = None
    fold: Callable[[str], str] = text_key
    choices: tuple[tuple[Any, StrOrPromise], ...] = ()
    target: Schema | Callable[[], Schema] | None = None
    lookup: NameLookup | None = None
    aliases: tuple[str, ...] = ()
    value_q: Callable[[Any], Q] | None = None

    def __post_init__(self) -> None:
        if not self.orm:
            object.__setattr__(self, "orm", self.name)
        if self.type in (FieldType.RELATION, FieldType.MANY) and self.target is None:
            raise ValueError(f"relation field {self.name!r} needs a target schema")

    @property
    def is_relation(self) -> bool:
        return self.type in (FieldType.RELATION, FieldType.MANY)

    @property
    def is_textual(self) -> bool:
        """Text, or a choice with text values: empty means NULL or ''."""
        if self.type is FieldType.TEXT:
            return True
        return self.type is FieldType.CHOICE and any(isinstance(value, str) for value, _ in self.choices)

    def target_schema(self) -> Schema:
        if self.target is None:
            raise TypeError(f"{self.name!r} is not a relation")
        return self.target if isinstance(self.target, Schema) else self.target()


@dataclass(frozen=True)
class ResolvedPath:
    """A path resolved against a schema: the fields walked, first to last (the leaf)."""

    steps: tuple[FieldSpec, ...]

    @property
    def leaf(self) -> FieldSpec:
        return self.steps[-1]

    @property
    def canonical(self) -> str:
        return ".".join(step.name for step in self.steps)

    @property
    def orm(self) -> str:
        return "__".join(step.orm for step in self.steps)

    @property
    def key_orm(self) -> str:
        """The ORM path of the leaf's stored key column (for ``ilike``)."""
        if self.leaf.key is None:
            raise TypeError(f"{self.canonical!r} has no key column")
        return "__".join([*(step.orm for step in self.steps[:-1]), self.leaf.key])

    @property
    def through_many(self) -> bool:
        return any(step.type is FieldType.MANY for step in self.steps)

    @property
    def label(self) -> str:
        return " › ".join(capfirst(str(step.label)) for step in self.steps)


class PathError(Exception):
    """A path that does not resolve: ``segment`` is unknown under ``parent`` (the canonical path before it).

    ``not_relation`` is set when the parent is a plain field, which has no sub-fields.
    """

    def __init__(
        self,
        segment: str,
        parent: str,
        suggestions: list[str],
        *,
        not_relation: bool = False,
        too_long: bool = False,
    ) -> None:
        super().__init__(segment)
        self.segment = segment
        self.parent = parent
        self.suggestions = suggestions
        self.not_relation = not_relation
        self.too_long = too_long


@dataclass(frozen=True)
class Schema:
    """The reachable fields of one kind of record; ``model`` returns its Django model (needed by ``to_q`` for
    to-many conditions, which become ``EXISTS`` subqueries on it)."""

    name: str
    fields: tuple[FieldSpec, ...]
    model: Callable[[], type[Model]] | None = None
    _index: dict[str, FieldSpec] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        index: dict[str, FieldSpec] = {}
        for spec in self.fields:
            for name in (spec.name, *spec.aliases):
                if name in index:
                    raise ValueError(f"schema {self.name!r}: {name!r} is defined twice")
                index[name] = spec
        object.__setattr__(self, "_index", index)

    def get(self, name: str) -> FieldSpec | None:
        """The field called ``name`` (or having it as an alias), or None."""
        return self._index.get(name)

    @property
    def names(self) -> list[str]:
        """Every name a field answers to, canonical names first."""
        return [spec.name for spec in self.fields] + [a for spec in self.fields for a in spec.aliases]

    def resolve(self, path: str) -> ResolvedPath:
        """Resolve a dotted path (aliases allowed), or raise :class:`PathError`."""
        segments = path.split(".")
        if len(segments) > MAX_PATH_SEGMENTS:
            raise PathError(path, "", [], too_long=True)
        schema: Schema | None = self
        steps: list[FieldSpec] = []
        for index, segment in enumerate(segments):
            parent = ".".join(step.name for step in steps)
            if schema is None:
                raise PathError(segment, parent, [], not_relation=True)
            spec = schema.get(segment)
            if spec is None:
                is_last = index == len(segments) - 1
                if steps and is_last and segment in SELF_SEGMENTS and (segment == "id" or steps[-1].lookup):
                    break  # `team.name`, `tags.id`: the relation itself
                prefix = f"{parent}." if parent else ""
                choices = schema.names + (
                    [] if not steps else [s for s in SELF_SEGMENTS if s == "id" or steps[-1].lookup]
                )
                close = difflib.get_close_matches(segment, choices, n=3, cutoff=0.6)
                raise PathError(segment, parent, [prefix + name for name in close])
            steps.append(spec)
            schema = spec.target_schema() if spec.is_relation else None
        return ResolvedPath(tuple(steps))
