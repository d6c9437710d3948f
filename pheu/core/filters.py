"""Filter classes shared by the FilterSets of every app."""

from __future__ import annotations

from typing import Any

import django_filters as filters
from django.utils.functional import lazy


def _descending(fmt: Any, label: Any) -> str:
    return str(fmt) % label


_lazy_descending = lazy(_descending, str)


class OrderingFilter(filters.OrderingFilter):
    """django-filter's ``OrderingFilter`` with every choice label translated when shown.

    The original formats "%s (descending)" when the FilterSet class is built, freezing those labels in the
    language active at import time; here they stay lazy, so pages and the OpenAPI schema follow the
    reader's language.
    """

    def build_choices(self, fields: dict[str, str], labels: dict[str, Any]) -> list[tuple[str, Any]]:
        choices = super().build_choices(fields, labels)
        ascending = dict(choices[0::2])
        return [
            (
                param,
                _lazy_descending(self.descending_fmt, ascending[param[1:]])
                if param.startswith("-") and f"-{param[1:]}" not in labels
                else label,
            )
            for param, label in choices
        ]
