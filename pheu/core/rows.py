"""Model instances read by a hand-written SELECT, for the few hot paths where one statement replaces
several ORM queries (the public web form reads its team, form settings, source and the installation's
settings in one).

:class:`ModelColumns` writes the select list of a model's concrete columns under an alias and turns the
matching slice of a row back into an instance, with the conversions the ORM applies (SQLite's booleans,
decimals, dates and UUIDs, JSON), so that the instance is the one a queryset would have given.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from django.db import connections
from django.db.models import Model, QuerySet, signals


class ModelColumns:
    """The concrete columns of ``model`` under ``alias`` (an alias the query gives the model's table);
    with ``only``, those fields' columns and the primary key (the instance defers the others, as
    ``QuerySet.only`` does: reading one of them costs a query)."""

    def __init__(self, model: type[Model], alias: str, only: Sequence[str] | None = None) -> None:
        self.model = model
        self.alias = alias
        meta = model._meta
        self.fields = [
            f
            for f in meta.concrete_fields
            if only is None or f is meta.pk or f.name in only or f.attname in only
        ]
        self.attnames = [f.attname for f in self.fields]
        self._pk_at = self.fields.index(model._meta.pk)
        self._converters: dict[str, list[tuple[Any, list[Callable[..., Any]]]]] = {}  # by connection alias

    def __len__(self) -> int:
        return len(self.fields)

    def table(self, using: str = "default") -> str:
        return connections[using].ops.quote_name(self.model._meta.db_table)

    def select(self, using: str = "default") -> str:
        quote = connections[using].ops.quote_name
        return ", ".join(f"{self.alias}.{quote(f.column)}" for f in self.fields)

    def _converters_for(self, using: str) -> list[tuple[Any, list[Callable[..., Any]]]]:
        """Per field: its column expression and the converters the ORM applies to its values."""
        if using not in self._converters:
            connection = connections[using]
            converters = []
            for field in self.fields:
                column = field.get_col(self.alias)
                found = [*connection.ops.get_db_converters(column), *column.get_db_converters(connection)]
                converters.append((column, found))
            self._converters[using] = converters
        return self._converters[using]

    def instance(self, values: Sequence[Any], using: str = "default") -> Model | None:
        """The instance of ``values`` (this model's slice of a row); None when its primary key is NULL (the
        row of an outer join that found none)."""
        if values[self._pk_at] is None:
            return None
        connection = connections[using]
        converted = []
        for value, (column, converters) in zip(values, self._converters_for(using), strict=True):
            for convert in converters:
                value = convert(value, column, connection)
            converted.append(value)
        return self.model.from_db(using, self.attnames, converted)


# --- inserts --------------------------------------------------------------------------------------------
_INSERTS: dict[tuple[type[Model], str], tuple[str, list[Any]]] = {}
# A row inserted with another, in one statement: the instance and the attribute that takes the other's id.
Dependant = tuple[Model, str]
_LINKED: dict[tuple[Any, ...], tuple[str, list[list[Any]]]] = {}


def _insert_statement(model: type[Model], using: str) -> tuple[str, list[Any]]:
    """The INSERT of ``model``'s own columns (its automatic primary key left to the database), returning
    the primary key; the fields in the order of its values."""
    key = (model, using)
    if key not in _INSERTS:
        connection = connections[using]
        quote = connection.ops.quote_name
        meta = model._meta
        fields = _own_fields(model)
        columns = ", ".join(quote(f.column) for f in fields)
        placeholders = ", ".join(["%s"] * len(fields))
        sql = (
            f"INSERT INTO {quote(meta.db_table)} ({columns}) VALUES ({placeholders}) "
            f"RETURNING {quote(meta.pk.column)}"
        )
        _INSERTS[key] = (sql, fields)
    return _INSERTS[key]


def _own_fields(model: type[Model]) -> list[Any]:
    """The fields an INSERT of ``model`` writes: its own concrete columns but an automatic primary key."""
    meta = model._meta
    return [f for f in meta.local_concrete_fields if f is not meta.auto_field and not f.generated]


def _plain(model: type[Model], using: str) -> bool:
    """Whether ``model`` can be inserted by a written statement without skipping anything the ORM does."""
    return (
        connections[using].features.can_return_columns_from_insert
        and not model._meta.parents
        and not signals.pre_save.has_listeners(model)
        and not signals.post_save.has_listeners(model)
    )


def _stored(instance: Model, pk: Any, using: str) -> None:
    meta = instance._meta
    if meta.auto_field is not None:
        setattr(instance, meta.auto_field.attname, pk)
    instance._state.adding = False
    instance._state.db = using


def insert(instance: Model, using: str = "default") -> None:
    """Insert ``instance`` as ``instance.save(force_insert=True)`` would (each field's ``pre_save``, so
    ``auto_now_add`` stamps are set on it too; its primary key read back), with the statement written once
    per model: the ORM compiles its INSERT anew on every save (≈ 0.3 ms of Python for a lead's columns).

    For the rows a lead creation writes on every request. A model that a ``pre_save``/``post_save``
    receiver listens to (or a child model) is saved by the ORM instead, so that nothing is skipped."""
    connection = connections[using]
    model = type(instance)
    if not _plain(model, using):
        instance.save(force_insert=True, using=using)
        return
    sql, fields = _insert_statement(model, using)
    params = [f.get_db_prep_save(f.pre_save(instance, True), connection) for f in fields]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        (pk,) = cursor.fetchone()
    _stored(instance, pk, using)


def insert_with(instance: Model, dependants: Sequence[Dependant] = (), using: str = "default") -> None:
    """Insert ``instance`` (as :func:`insert`), then each dependant ``(row, attname)`` with ``instance``'s
    new id in ``row.attname`` (a lead's history entry, its score, its assignment decision).

    On PostgreSQL this is one statement — ``WITH new AS (INSERT … RETURNING id)`` and each dependant's
    ``INSERT … VALUES (…, (SELECT id FROM new))`` —: one round trip instead of one per row (≈ 0.4 ms of a
    creation's time each). The database runs the triggers of the whole statement at its end, after every
    row is written (:func:`inserted_together`). Elsewhere the rows are inserted one after the other, as is a
    row a signal listens to (saved by the ORM after the others)."""
    connection = connections[using]
    if connection.vendor != "postgresql" or not _plain(type(instance), using):
        linked: list[Dependant] = []
        later = list(dependants)
    else:
        linked = [(row, attname) for row, attname in dependants if _plain(type(row), using)]
        later = [(row, attname) for row, attname in dependants if not _plain(type(row), using)]
    if linked:
        key = (using, type(instance), *((type(row), attname) for row, attname in linked))
        if key not in _LINKED:
            _LINKED[key] = _linked_statement(instance, linked, using)
        sql, fields_of = _LINKED[key]
        params = []
        for row, fields in zip([instance, *(row for row, _attname in linked)], fields_of, strict=True):
            params += [f.get_db_prep_save(f.pre_save(row, True), connection) for f in fields]
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            pks = cursor.fetchone()
        _stored(instance, pks[0], using)
        for (row, attname), pk in zip(linked, pks[1:], strict=True):
            setattr(row, attname, instance.pk)
            _stored(row, pk, using)
    else:
        insert(instance, using)
    for row, attname in later:
        setattr(row, attname, instance.pk)
        insert(row, using)


def inserted_together(model: type[Model], dependant: type[Model], using: str = "default") -> bool:
    """Whether :func:`insert_with` writes a ``dependant`` row in the statement of its ``model`` row, so
    before the triggers of that insert run (PostgreSQL). A row that such a trigger would otherwise make (a
    lead's score row) can then be given with its values instead of updated afterwards."""
    return connections[using].vendor == "postgresql" and _plain(model, using) and _plain(dependant, using)


def _linked_statement(
    instance: Model, dependants: Sequence[Dependant], using: str
) -> tuple[str, list[list[Any]]]:
    """The one statement of :func:`insert_with` (PostgreSQL), and per row the fields of its values."""
    quote = connections[using].ops.quote_name
    head, head_fields = _insert_statement(type(instance), using)
    parts = [f"new AS ({head})"]
    fields_of = [head_fields]
    for index, (row, attname) in enumerate(dependants):
        meta = row._meta
        fields = [f for f in _own_fields(type(row)) if f.attname != attname]
        column = next(f.column for f in meta.concrete_fields if f.attname == attname)
        columns = ", ".join([*(quote(f.column) for f in fields), quote(column)])
        values = ", ".join([*(["%s"] * len(fields)), "(SELECT * FROM new)"])
        parts.append(
            f"d{index} AS (INSERT INTO {quote(meta.db_table)} ({columns}) VALUES ({values}) "
            f"RETURNING {quote(meta.pk.column)})"
        )
        fields_of.append(fields)
    selected = ", ".join(["(SELECT * FROM new)", *(f"(SELECT * FROM d{i})" for i in range(len(dependants)))])
    return f"WITH {', '.join(parts)} SELECT {selected}", fields_of


# --- a queryset's SQL over stand-in tables ---------------------------------------------------------------
class ReadsRealTable(Exception):
    """The query reads one of the tables it was to read from stand-ins elsewhere than in its own FROM
    clause (a subquery of the table itself): its SQL over the stand-ins would not be the same query."""


def sql_on_tables(queryset: QuerySet[Any], tables: Mapping[str, str]) -> tuple[str, tuple[Any, ...]]:
    """The SQL and parameters of ``queryset`` with each table of ``tables`` (real name → stand-in, a
    table of the same columns: e.g. an import's staging table shaped like the leads) read in its place,
    under the real name as alias: its columns, joins, annotations and conditions are the queryset's own,
    only the rows are the stand-in's. Relabelled in the FROM clause and the joins of the query itself;
    :class:`ReadsRealTable` when the compiled SQL still reads a real table of ``tables`` (a subquery of
    it: it would read the real rows)."""
    query = queryset.query.clone()
    connection = connections[queryset.db]
    query.get_initial_alias()
    for alias, entry in list(query.alias_map.items()):
        stand_in = tables.get(entry.table_name)
        if stand_in is not None:
            relabelled = copy.copy(entry)
            relabelled.table_name = stand_in
            relabelled.table_alias = alias
            query.alias_map[alias] = relabelled
    sql, params = query.sql_with_params()
    quote = connection.ops.quote_name
    for real in tables:
        if re.search(rf"\b(FROM|JOIN)\s+{re.escape(quote(real))}(?=[\s)]|$)", sql):
            raise ReadsRealTable(real)
    return sql, tuple(params)
