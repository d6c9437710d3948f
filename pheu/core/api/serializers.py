"""Serializers shared by the apps: history entries and the note form, the domain (rule) input field, and
the installation's settings."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from django.utils import translation
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from pheu.core.models import PREDICTIVE_FIELDS, HistoryEntry, PheuSettings
from pheu.core.services import SETTINGS_FIELDS
from pheu.lib.emails import with_display_name

# Whole numbers are bounded by PostgreSQL's `integer`, whatever the database: the same input is valid on
# every installation, and the OpenAPI schema does not depend on the database it was generated with.
INT_MAX = 2**31 - 1
COUNT = {"min_value": 0, "max_value": INT_MAX}


class AuthorSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(source="display_name", read_only=True)


class ChangeSerializer(serializers.Serializer):
    """One tracked field change: values as shown when it happened, relation ids in ``*_id``."""

    field = serializers.CharField()
    old = serializers.JSONField(allow_null=True, required=False)
    new = serializers.JSONField(allow_null=True, required=False)
    old_id = serializers.JSONField(allow_null=True, required=False)
    new_id = serializers.JSONField(allow_null=True, required=False)


class HistoryEntrySerializer(serializers.ModelSerializer):
    """An entry of a record's history. Entries shown from another record (a lead's assignment decisions)
    have no ``id`` of their own: ``assignment_decision`` names the decision instead."""

    id = serializers.IntegerField(read_only=True, allow_null=True)
    author = AuthorSerializer(read_only=True, allow_null=True)
    changes = ChangeSerializer(many=True, read_only=True)
    assignment_decision = serializers.SerializerMethodField()

    class Meta:
        model = HistoryEntry
        fields = ["id", "kind", "author", "created_at", "body", "changes", "assignment_decision"]
        read_only_fields = fields

    def get_assignment_decision(self, entry: HistoryEntry) -> int | None:
        return getattr(entry, "decision_id", None)


class NoteSerializer(serializers.Serializer):
    """``{"body": "…"}``: the text of a note (HTML is sanitised)."""

    body = serializers.CharField(max_length=20000, allow_blank=True, trim_whitespace=True)


@extend_schema_field(
    {
        "oneOf": [
            {"type": "string", "example": "[['country_id', 'in', ['United States', 'Canada']]]"},
            {"type": "array", "items": {}, "example": [["country.code", "=", "VN"]]},
        ],
    }
)
class DomainInputField(serializers.Field):
    """A domain as typed (a string) or as a JSON array, passed on as it came; the service checks it."""

    default_error_messages = {
        "invalid": _("A rule is a text or a list of conditions, such as [['country_id', 'in', ['Vietnam']]].")
    }

    def to_internal_value(self, data: Any) -> str | list[Any]:
        if isinstance(data, str | list):
            return data
        self.fail("invalid")

    def to_representation(self, value: Any) -> str:
        return str(value)


class DisplayNameEmailMixin:
    """A serializer whose ``email`` may be written with its display name, ``Tên <x@y.vn>``: it reads the
    address, and the name into ``display_name_field`` when that is empty (in the request, or on the record
    when the request leaves it out). Nothing is copied when the e-mail has no ``<``."""

    display_name_field = "contact_name"

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, Mapping):
            instance = getattr(self, "instance", None)
            current = str(getattr(instance, self.display_name_field, "") or "") if instance else ""
            data = with_display_name(data, name=self.display_name_field, current=current)
        return super().to_internal_value(data)  # type: ignore[misc]  # a mixin: super() is the serializer it is mixed into


class PreparedFieldsMixin:
    """For a ``ModelSerializer`` on a hot path: the fields are built from the model once per class, and
    each instance gets copies. DRF builds them anew for every serializer (≈ 1.7 ms for a lead's 60 fields, a
    third of a creation's Python time).

    A plain field is copied shallowly: binding it to the new serializer sets its own ``field_name``,
    ``parent`` and ``source_attrs``, and what it shares with the prepared one (choices, error messages,
    validators, a related field's queryset, which DRF clones before use) is only read. A field holding other
    fields (a to-many relation, a nested serializer) is deep-copied, as DRF copies declared fields."""

    _prepared_fields: dict[tuple[type, str | None], dict[str, Any]] = {}

    def get_fields(self) -> dict[str, Any]:
        # Per language too: DRF gives a field a label only where the model's verbose name, as translated
        # when the fields are built, differs from the field's name.
        key = (type(self), translation.get_language())
        prepared = self._prepared_fields.get(key)
        if prepared is None:
            prepared = self._prepared_fields[key] = super().get_fields()  # type: ignore[misc]  # a ModelSerializer's
        return {
            name: copy.deepcopy(field) if isinstance(field, _COMPOUND) else _shallow_copy(field)
            for name, field in prepared.items()
        }

    _prepared_validators: dict[type, list[Any]] = {}

    def get_validators(self) -> list[Any]:
        # The model's unique-together and unique-for-date validators, derived once per class: DRF derives
        # them on every validation, reading the model's relations (≈ 0.4 ms for a lead). They keep no state.
        key = type(self)
        if key not in self._prepared_validators:
            self._prepared_validators[key] = super().get_validators()  # type: ignore[misc]  # a mixin: super() is the serializer it is mixed into
        return list(self._prepared_validators[key])


_COMPOUND = (serializers.ManyRelatedField, serializers.BaseSerializer)


def _shallow_copy(field: serializers.Field) -> serializers.Field:
    """What ``copy.copy`` makes of a plain field (a new instance sharing the attributes' values), without its
    generic protocol (``__reduce_ex__``, ``copyreg``): ≈ 10 times faster, 60 times per lead serializer."""
    clone = object.__new__(type(field))
    clone.__dict__.update(field.__dict__)
    return clone


class SettingsSerializer(serializers.ModelSerializer):
    """The installation's settings. Teams override ``use_leads`` and ``merge_duplicates_on_assignment``
    (their value null: follow these)."""

    predictive_fields = serializers.ListField(
        child=serializers.ChoiceField(choices=PREDICTIVE_FIELDS),
        required=False,
        help_text=_("The variables the predictive probability is learnt by."),
    )
    phone_region = serializers.CharField(
        min_length=2,
        max_length=2,
        required=False,
        help_text=_(
            "The country (ISO 3166 code, e.g. VN) whose numbers are those typed without a country code. "
            "A new installation starts with the server's PHEU_PHONE_REGION."
        ),
    )
    duplicate_show_threshold = serializers.IntegerField(min_value=1, max_value=100, required=False)
    duplicate_merge_threshold = serializers.IntegerField(min_value=1, max_value=100, required=False)

    class Meta:
        model = PheuSettings
        fields = [*SETTINGS_FIELDS, "updated_at"]
        read_only_fields = ["updated_at"]
