"""Phone numbers: validation and E.164 normalisation with the ``phonenumbers`` library.

Numbers typed without a country code are read in the installation's default region (``VN`` unless
``PHEU_PHONE_REGION`` says otherwise), so ``0912 345 678``, ``+84 912345678`` and ``84912345678`` all give
``+84912345678``.
"""

from __future__ import annotations

import phonenumbers
from django.conf import settings


class InvalidPhoneError(ValueError):
    """The text is not a phone number that exists in any numbering plan."""


def _candidates(raw: str, region: str) -> list[str]:
    text = raw.strip()
    candidates = [text]
    digits = "".join(ch for ch in text if ch.isdigit())
    # "84912345678": a full international number typed without the "+".
    if not text.startswith("+") and len(digits) >= 10:
        candidates.append("+" + digits)
    return candidates


def parse_phone(raw: str, region: str | None = None) -> str:
    """Return ``raw`` as E.164, or raise :class:`InvalidPhoneError`."""
    region = region or settings.PHEU_PHONE_REGION
    for candidate in _candidates(raw, region):
        try:
            number = phonenumbers.parse(candidate, region)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(number):
            return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    raise InvalidPhoneError(raw)


def phone_e164_or_empty(raw: str | None, region: str | None = None) -> str:
    """E.164 form of ``raw``, or "" when it is empty or not a valid number (for tolerant bulk paths)."""
    if not raw or not raw.strip():
        return ""
    try:
        return parse_phone(raw, region)
    except InvalidPhoneError:
        return ""
