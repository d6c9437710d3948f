"""Schemas by name, so that an app can check a domain over another app's records without importing it.

``teams`` stores rules over leads but must not import ``leads`` (STYLE.md: dependencies point one way), so the
app that owns a schema registers a factory when it is loaded (``AppConfig.ready()``) and others ask for it by
name::

    register_schema("lead", lead_schema)   # pheu.leads.apps
    get_schema("lead")                     # anywhere, once the apps are loaded

The factory is called on the first ``get_schema`` and its schema kept for the life of the process.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from pheu.rules.schema import Schema

SchemaFactory = Callable[[], Schema]

_factories: dict[str, SchemaFactory] = {}
_schemas: dict[str, Schema] = {}
_lock = threading.Lock()


class UnknownSchemaError(LookupError):
    """No schema is registered under this name: a programming or configuration error, not a user's."""

    def __init__(self, name: str) -> None:
        known = ", ".join(sorted(_factories)) or "none"
        super().__init__(
            f"No rule schema is registered as {name!r} (registered: {known}). The app that owns it registers "
            "it in its AppConfig.ready(); is that app in INSTALLED_APPS and are the apps loaded?"
        )
        self.name = name


def register_schema(name: str, factory: SchemaFactory) -> None:
    """Make ``factory()`` the schema called ``name`` (registering again replaces it and its cached schema)."""
    with _lock:
        _factories[name] = factory
        _schemas.pop(name, None)


def get_schema(name: str) -> Schema:
    """The schema registered as ``name``, built on first use; :class:`UnknownSchemaError` if there is none."""
    schema = _schemas.get(name)
    if schema is not None:
        return schema
    with _lock:
        factory = _factories.get(name)
        if factory is None:
            raise UnknownSchemaError(name)
        schema = _schemas.get(name)
        if schema is None:
            schema = _schemas[name] = factory()
        return schema


def registered_schemas() -> tuple[str, ...]:
    """The names that :func:`get_schema` knows, sorted."""
    return tuple(sorted(_factories))
