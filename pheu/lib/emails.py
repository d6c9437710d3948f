"""E-mail addresses: syntax validation (no DNS look-up) and the normalised matching key."""

from __future__ import annotations

import re
from collections.abc import Mapping, MutableMapping
from email.utils import parseaddr
from functools import lru_cache
from typing import Any

from email_validator import EmailNotValidError, validate_email


class InvalidEmailError(ValueError):
    """The text is not a syntactically valid e-mail address; ``reason`` says why (in English)."""

    def __init__(self, raw: str, reason: str) -> None:
        super().__init__(raw)
        self.reason = reason


def clean_email(raw: str) -> str:
    """Return ``raw`` trimmed and checked, or raise :class:`InvalidEmailError`."""
    text = raw.strip()
    try:
        validate_email(text, check_deliverability=False)
    except EmailNotValidError as exc:
        raise InvalidEmailError(raw, str(exc)) from exc
    return text


def email_key(raw: str | None) -> str:
    """The matching key of an address: trimmed and lower-cased ("" for none)."""
    return (raw or "").strip().lower()


# A local part every syntax check accepts (dot-atom of the most common characters): with a domain already
# found valid, the address is valid without running the full check again.
_PLAIN_LOCAL = re.compile(r"[A-Za-z0-9_+-]+(?:\.[A-Za-z0-9_+-]+)*")


@lru_cache(maxsize=4096)
def _domain_is_valid(domain: str) -> bool:
    try:
        clean_email(f"a@{domain}")
    except InvalidEmailError:
        return False
    return True


def email_is_valid(raw: str) -> bool:
    """Whether :func:`clean_email` accepts ``raw``: the full check, skipped for a plain local part at a
    domain already found valid (the check of domains is cached)."""
    text = raw.strip()
    local, at, domain = text.rpartition("@")
    if (
        at
        and len(text) <= 200
        and len(local) <= 64
        and domain.isascii()
        and _PLAIN_LOCAL.fullmatch(local)
        and _domain_is_valid(domain)
    ):
        return True
    try:
        clean_email(raw)
    except InvalidEmailError:
        return False
    return True


def valid_email_key(raw: str | None) -> str:
    """The matching key of a valid address; "" for none and for a text that is not an address (kept as
    typed, it matches nothing)."""
    key = email_key(raw)
    return key if key and email_is_valid(raw or "") else ""


def email_domain(raw: str | None) -> str:
    """The domain part of an address, lower-cased ("" for none)."""
    key = email_key(raw)
    return key.rpartition("@")[2] if "@" in key else ""


def split_display_name(raw: str) -> tuple[str, str] | None:
    """``("Tên", "x@y.vn")`` for an address written with its display name, ``Tên <x@y.vn>`` (or
    ``"Nguyễn, Văn An" <an@y.vn>``, as mail programs copy it), read by the standard library's
    ``email.utils.parseaddr``; None for any other text, which is checked as an address as it stands.

    Costs one substring test when the text has no ``<``. The address is not validated here: the caller
    checks it as any address (:func:`clean_email`)."""
    if "<" not in raw:
        return None
    text = raw.strip()
    if not text.endswith(">"):
        return None
    inner = text[text.rfind("<") + 1 : -1].strip()
    name, address = parseaddr(text)
    if not address or address != inner or "<" in name:
        return None
    return name.strip(), address


def with_display_name(
    values: Mapping[str, Any], *, email: str = "email", name: str = "contact_name", current: str = ""
) -> Mapping[str, Any]:
    """``values`` with ``values[email]`` written ``Tên <x@y.vn>`` split: the address in ``email`` and, when
    the name is empty — ``values[name]``, or ``current`` (the record's) when ``values`` has none —, the
    display name in ``name``. ``values`` itself when its e-mail has no display name (no copy: a creation
    without one pays a lookup and a substring test)."""
    raw = values.get(email)
    if not isinstance(raw, str) or "<" not in raw:
        return values
    parts = split_display_name(raw)
    if parts is None:
        return values
    display, address = parts
    # A copy of the same kind: a QueryDict (a form, a form-encoded request) keeps its lists of values.
    changed: MutableMapping[str, Any] = values.copy() if hasattr(values, "copy") else dict(values)
    changed[email] = address
    if display and not str(values.get(name, current) or "").strip():
        changed[name] = display
    return changed
