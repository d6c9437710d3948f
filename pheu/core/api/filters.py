"""The API's filter backend: django-filter's, refusing on a list a query parameter nothing on the view reads.

A misspelt filter (``?tema=3`` for ``?team=3``) would otherwise be ignored and the list come back whole, which
reads as "the filter matched everything". Pages keep ignoring unknown parameters (a bookmarked URL survives a
renamed filter); the API answers 400 naming the parameter and the ones the list takes.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext as _
from django_filters.rest_framework import DjangoFilterBackend
from django_filters.widgets import SuffixedMultiWidget
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.settings import api_settings


def _form_parameter_names(form: forms.Form) -> set[str]:
    """The query parameters a filter form reads: its fields' names, or their suffixed parts (``_min``)."""
    names: set[str] = set()
    for name, field in form.fields.items():
        widget = field.widget
        if isinstance(widget, SuffixedMultiWidget):
            names.update(widget.suffixed(name, suffix) for suffix in widget.suffixes)
        elif isinstance(widget, forms.MultiWidget):
            # widgets_names is set by MultiWidget.__init__; django-stubs does not declare it.
            names.update(f"{name}{part}" for part in widget.widgets_names)  # type: ignore[attr-defined]  # set by MultiWidget.__init__; not in django-stubs
        else:
            names.add(name)
    return names


def _schema_parameter_names(component: Any, view: Any) -> set[str]:
    """The parameters a DRF filter backend or paginator says it reads (as it tells the OpenAPI schema)."""
    describe = getattr(component, "get_schema_operation_parameters", None)
    if describe is None:
        return set()
    return {parameter["name"] for parameter in describe(view) if "name" in parameter}


class FilterBackend(DjangoFilterBackend):
    """``DjangoFilterBackend`` that, on a viewset's ``list``, answers 400 for a query parameter that neither
    the filter set, the view's other filter backends (ordering, search), the paginator, DRF's ``format`` nor
    the view's ``extra_list_parameters`` read. Other actions (one record, its history) are not checked."""

    def filter_queryset(self, request: Request, queryset: QuerySet[Any], view: Any) -> QuerySet[Any]:
        if getattr(view, "action", None) == "list":
            self._refuse_unknown(request, queryset, view)
        return super().filter_queryset(request, queryset, view)

    def _refuse_unknown(self, request: Request, queryset: QuerySet[Any], view: Any) -> None:
        known = {api_settings.URL_FORMAT_OVERRIDE, *getattr(view, "extra_list_parameters", ())}
        filterset = self.get_filterset(request, queryset, view)
        if filterset is not None:
            known |= _form_parameter_names(filterset.form)
        for backend_class in getattr(view, "filter_backends", ()):
            if not issubclass(backend_class, DjangoFilterBackend):
                known |= _schema_parameter_names(backend_class(), view)
        if getattr(view, "paginator", None) is not None:
            known |= _schema_parameter_names(view.paginator, view)
        unknown = sorted(set(request.query_params) - known)
        if unknown:
            takes = ", ".join(sorted(name for name in known if name))
            raise serializers.ValidationError(
                {
                    name: [
                        _("This list has no parameter “%(name)s”. It takes: %(names)s.")
                        % {"name": name, "names": takes}
                    ]
                    for name in unknown
                }
            )
