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


def _insert_statement(model: type[Model], using: str) -> tuple[str, list[Any]]:
    """The INSERT of ``model``'s own columns (its automatic primary key left to the database), returning
    the primary key; the fields in the order of its values."""
    key = (model, using)
    if key not in _INSERTS:
        connection = connections[using]
        quote = connection.ops.quote_name
        meta = model._meta
        fields = [f for f in meta.local_concrete_fields if f is not meta.auto_field and not f.generated]
        columns = ", ".join(quote(f.column) for f in fields)
        placeholders = ", ".join(["%s"] * len(fields))
        sql = (
            f"INSERT INTO {quote(meta.db_table)} ({columns}) VALUES ({placeholders}) "
            f"RETURNING {quote(meta.pk.column)}"
        )
        _INSERTS[key] = (sql, fields)
    return _INSERTS[key]


def insert(instance: Model, using: str = "default") -> None:
    """Insert ``instance`` as ``instance.save(force_insert=True)`` would (each field's ``pre_save``, so
    ``auto_now_add`` stamps are set on it too; its primary key read back), with the statement written once
    per model: the ORM compiles its INSERT anew on every save (≈ 0.3 ms of Python for a lead's columns).

    For the rows a lead creation writes on every request. A model that a ``pre_save``/``post_save``
    receiver listens to (or a child model) is saved by the ORM instead, so that nothing is skipped."""
    connection = connections[using]
    model = type(instance)
    if (
        not connection.features.can_return_columns_from_insert
        or instance._meta.parents
        or signals.pre_save.has_listeners(model)
        or signals.post_save.has_listeners(model)
    ):
        instance.save(force_insert=True, using=using)
        return
    sql, fields = _insert_statement(model, using)
    params = [f.get_db_prep_save(f.pre_save(instance, True), connection) for f in fields]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        (pk,) = cursor.fetchone()
    meta = instance._meta
    if meta.auto_field is not None:
        setattr(instance, meta.auto_field.attname, pk)
    instance._state.adding = False
    instance._state.db = using


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
