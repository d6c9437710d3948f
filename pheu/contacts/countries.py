"""The ISO 3166-1 country list with Vietnamese and English names.

The codes and English names come from the maintained pycountry package; the Vietnamese names from the Unicode
CLDR as Babel ships it — the names Vietnamese readers use today ("Canada", "Singapore", "Campuchia", "Séc").
pycountry's own Vietnamese catalogue is decades old ("Ca-na-đa", "Nam Dương", "Lục Xâm Bảo"): those names stay
only as aliases, so that someone who types one still finds the country."""

from __future__ import annotations

import copy
import gettext
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pycountry
from babel import Locale

from pheu.lib.text import text_key

# Where Vietnamese business writing uses a shorter name than CLDR's ("Myanmar (Miến Điện)", "Đặc khu Hành
# chính Hồng Kông, Trung Quốc"), or the Vietnamese word over the borrowed one ("Úc", "Ý"). Every other name
# is CLDR's, as pheu/contacts/tests/test_countries.py checks.
VI_OVERRIDES = {
    "AU": "Úc",
    "HK": "Hồng Kông",
    "IT": "Ý",
    "MM": "Myanmar",
    "MO": "Ma Cao",
}


@dataclass(frozen=True)
class CountryRow:
    code: str
    code3: str
    name_en: str
    name_vi: str
    name_keys: str


def cldr_vi_names() -> dict[str, str]:
    """CLDR's Vietnamese name of each territory, by ISO code."""
    return dict(Locale("vi").territories)


def iter_countries() -> Iterator[CountryRow]:
    old_vi = gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=["vi"], fallback=True)
    cldr_vi = cldr_vi_names()
    for country in pycountry.countries:
        name_en = getattr(country, "common_name", None) or country.name
        name_vi = VI_OVERRIDES.get(country.alpha_2) or cldr_vi.get(country.alpha_2) or name_en
        aliases = [
            name_en,
            country.name,
            getattr(country, "official_name", ""),
            name_vi,
            cldr_vi.get(country.alpha_2, ""),
            old_vi.gettext(country.name),
            country.alpha_2,
            country.alpha_3,
        ]
        keys = " | ".join(dict.fromkeys(k for k in (text_key(a) for a in aliases) if k))
        yield CountryRow(country.alpha_2, country.alpha_3, name_en, name_vi, keys[:400])


# --- finding a country by what someone typed ------------------------------------------------------------
# The country table is reference data (loaded from pycountry by a migration, seldom edited in the admin),
# read by every web form post and import: each process keeps it in memory and reads it again after
# COUNTRY_CACHE_SECONDS, so that an edit in the admin reaches every process within that time.
COUNTRY_CACHE_SECONDS = 300
_cache: tuple[float, dict[str, Any]] | None = None
_cache_lock = threading.Lock()


def _country_keys() -> dict[str, Any]:
    """Every way of writing a country (code, three-letter code, names, aliases, unaccented, lower case) →
    the Country."""
    global _cache
    cached = _cache
    if cached is not None and time.monotonic() - cached[0] < COUNTRY_CACHE_SECONDS:
        return cached[1]
    from pheu.contacts.models import Country

    keys: dict[str, Any] = {}
    for country in Country.objects.all():  # by English name, as lists show them: first wins
        for name in (country.code, country.code3, country.name_en, country.name_vi):
            keys.setdefault(text_key(name), country)
        for key in country.name_keys.split("|"):
            keys.setdefault(key.strip(), country)
    keys.pop("", None)
    with _cache_lock:
        _cache = (time.monotonic(), keys)
    return keys


def forget_countries() -> None:
    """Read the country table again at the next look-up (after tests or a load changed it)."""
    global _cache
    with _cache_lock:
        _cache = None


def find_country(text: str | None) -> Any:
    """The Country written as ``text`` (ISO code, three-letter code, or a name or alias in Vietnamese or
    English, accents and case ignored), or None. A fresh copy: callers may keep or change it."""
    country = _country_keys().get(text_key(text))
    return copy.copy(country) if country is not None else None


def country_codes() -> dict[str, str]:
    """Every way of writing a country (as :func:`find_country` reads it) → its code."""
    return {key: country.code for key, country in _country_keys().items()}
