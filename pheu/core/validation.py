"""Checks shared by every record that holds contact details (leads, partners)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.utils.translation import gettext as _

from pheu.lib.emails import InvalidEmailError, clean_email
from pheu.lib.phones import InvalidPhoneError, parse_phone


def contact_field_errors(values: Mapping[str, Any]) -> dict[str, list[str]]:
    """Errors in the e-mail and phone fields present in ``values`` (empty values are allowed)."""
    errors: dict[str, list[str]] = {}
    email = values.get("email")
    if email:
        try:
            clean_email(email)
        except InvalidEmailError:
            errors["email"] = [_("“%(value)s” is not a valid e-mail address.") % {"value": email}]
    for field in ("phone", "mobile"):
        raw = values.get(field)
        if raw:
            try:
                parse_phone(raw)
            except InvalidPhoneError:
                errors[field] = [_("“%(value)s” is not a valid phone number.") % {"value": raw}]
    return errors


def required_text_errors(values: Mapping[str, Any], fields: Mapping[str, str]) -> dict[str, list[str]]:
    """Errors for ``fields`` (name → label) present in ``values`` but blank."""
    return {
        name: [_("%(field)s is required.") % {"field": label}]
        for name, label in fields.items()
        if name in values and not str(values[name] or "").strip()
    }
