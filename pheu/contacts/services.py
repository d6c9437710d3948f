"""Writes of customers (partners)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from pheu.contacts.exceptions import PartnerError
from pheu.contacts.models import Partner
from pheu.core.history import snapshot
from pheu.core.models import HistoryKind
from pheu.core.services import log_changes, log_entry
from pheu.core.validation import contact_field_errors, required_text_errors

EDITABLE_FIELDS: tuple[str, ...] = (
    "is_company",
    "parent",
    "name",
    "job_title",
    "email",
    "phone",
    "mobile",
    "website",
    "street",
    "city",
    "state",
    "zip",
    "country",
    "language",
    "vat",
    "notes",
    "active",
)
TRACKED_FIELDS: tuple[str, ...] = ("name", "is_company", "parent", "email", "phone", "active")


def _check(values: Mapping[str, Any], partner: Partner | None = None) -> None:
    errors = required_text_errors(values, {"name": _("Name")})
    errors.update(contact_field_errors(values))
    parent = values.get("parent")
    if parent is not None:
        if not parent.is_company:
            errors["parent"] = [_("“%(name)s” is not a company.") % {"name": parent.name}]
        elif partner is not None and parent.pk == partner.pk:
            errors["parent"] = [_("A customer cannot be its own company.")]
    if errors:
        raise PartnerError(field_errors=errors)


def _apply(partner: Partner, values: Mapping[str, Any]) -> None:
    for name, value in values.items():
        setattr(partner, name, value.strip() if isinstance(value, str) else value)


@transaction.atomic
def create_partner(*, actor: Any, values: Mapping[str, Any], tags: Iterable[Any] = ()) -> Partner:
    """Create a customer (company or person)."""
    _check({"name": "", **values})
    partner = Partner()
    _apply(partner, values)
    partner.created_by = actor if getattr(actor, "is_authenticated", False) else None
    partner.save()
    tags = list(tags)
    if tags:
        partner.tags.set(tags)
    log_entry(record=partner, kind=HistoryKind.CREATED, author=actor)
    return partner


@transaction.atomic
def update_partner(
    *, actor: Any, partner: Partner, values: Mapping[str, Any], tags: Iterable[Any] | None = None
) -> Partner:
    """Change a customer's fields; tracked changes go to its history."""
    _check(values, partner)
    partner = Partner.objects.select_for_update().get(pk=partner.pk)
    before = snapshot(partner, TRACKED_FIELDS)
    _apply(partner, values)
    partner.save()
    if tags is not None:
        partner.tags.set(list(tags))
    log_changes(record=partner, before=before, fields=TRACKED_FIELDS, author=actor)
    return partner
