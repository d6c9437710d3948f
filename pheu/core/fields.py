"""Typed access to a model's own fields, for code that reads their labels and conversions."""

from __future__ import annotations

from typing import Any

from django.db import models


def model_field(model: type[models.Model] | models.Model, name: str) -> models.Field[Any, Any]:
    """The field ``name`` that ``model`` declares (``_meta.get_field``), not a reverse relation or a generic
    foreign key, which have no label or conversion of their own. ``FieldDoesNotExist`` when there is none,
    ``TypeError`` when ``name`` is one of those."""
    field = model._meta.get_field(name)
    if not isinstance(field, models.Field):
        raise TypeError(f"{model._meta.label}.{name} is a {type(field).__name__}, not a field of the model")
    return field
