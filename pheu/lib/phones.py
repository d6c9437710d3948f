"""Phone numbers: validation and E.164 normalisation with the ``phonenumbers`` library.

Numbers typed without a country code are read in the installation's default region, so in ``VN``
``0912 345 678``, ``+84 912345678`` and ``84912345678`` all give ``+84912345678``. That region is a
setting managers change in the app (``PheuSettings.phone_region``); this module imports no app, so the
settings tell it (:func:`set_default_region`) each time they are read from the database, and until then
it is ``PHEU_PHONE_REGION`` (the region a new installation starts with).
"""

from __future__ import annotations

from collections.abc import Mapping

import phonenumbers
from django.conf import settings

from pheu.lib.text import text_key


class InvalidPhoneError(ValueError):
    """The text is not a phone number that exists in any numbering plan."""


# The region of the installation's settings as this process last read them (None: not read yet). A process
# that reads the settings after another process changed them takes the new region from then on; every write
# that parses numbers reads them first (record creation, imports, the settings' own change).
_region: str | None = None


def set_default_region(region: str | None) -> None:
    """Make ``region`` (an ISO 3166 code such as ``"VN"``) the default of this process; None forgets it."""
    global _region
    _region = region.upper() if region else None


def default_region() -> str:
    """The region numbers without a country code are read in."""
    return _region or str(settings.PHEU_PHONE_REGION).upper()


def is_supported_region(region: str) -> bool:
    """Whether ``phonenumbers`` has a numbering plan for ``region``."""
    return region.upper() in phonenumbers.SUPPORTED_REGIONS


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
    region = region or default_region()
    for candidate in _candidates(raw, region):
        try:
            number = phonenumbers.parse(candidate, region)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(number):
            return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    raise InvalidPhoneError(raw)


def phone_e164_or_empty(raw: str | None, region: str | None = None, *, previous: str = "") -> str:
    """E.164 form of ``raw``, or "" when it is empty or not a valid number (for tolerant bulk paths).

    ``previous``: the key the record holds; kept when ``raw`` is still that number read in the region of
    that key (:func:`kept_key`)."""
    key = ""
    if raw and raw.strip():
        try:
            key = parse_phone(raw, region)
        except InvalidPhoneError:
            key = ""
    return kept_key(raw, key, previous) if previous else key


def kept_key(raw: str | None, key: str, previous: str) -> str:
    """``previous`` when ``raw`` gives it read in its own region, else ``key``. A record saved again after
    the installation's region changed keeps the key its unchanged number was given ("0912 345 678" stays
    +84912345678 when the region becomes US); a number typed anew is read in the new region."""
    if not previous or key == previous or not raw or not raw.strip():
        return key
    try:
        region = phonenumbers.region_code_for_number(phonenumbers.parse(previous))
        if region and parse_phone(raw, region) == previous:
            return previous
    except (phonenumbers.NumberParseException, InvalidPhoneError):
        pass
    return key


def region_choices(language: str | None = None) -> list[tuple[str, str]]:
    """Every region with a numbering plan as ``(code, "Name (+calling code)")``, by name in ``language``
    (default: the active one; names from CLDR via Babel), for a select."""
    from babel import Locale, UnknownLocaleError
    from django.utils import translation

    reader = (language or translation.get_language() or "vi").replace("-", "_")
    names: Mapping[str, str]
    try:
        names = Locale.parse(reader).territories
    except (UnknownLocaleError, ValueError):
        names = {}
    choices = [
        (code, f"{names.get(code, code)} (+{phonenumbers.country_code_for_region(code)})")
        for code in phonenumbers.SUPPORTED_REGIONS
    ]
    return sorted(choices, key=lambda choice: text_key(choice[1]))
