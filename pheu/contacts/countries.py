"""The ISO 3166-1 country list with Vietnamese and English names, from the maintained pycountry package."""

from __future__ import annotations

import gettext
from collections.abc import Iterator
from dataclasses import dataclass

import pycountry

from pheu.lib.text import text_key

# Names Vietnamese business writing prefers over pycountry's translation.
_VI_OVERRIDES = {"US": "Hoa Kỳ", "GB": "Vương quốc Anh", "KR": "Hàn Quốc", "KP": "Triều Tiên"}


@dataclass(frozen=True)
class CountryRow:
    code: str
    code3: str
    name_en: str
    name_vi: str
    name_keys: str


def iter_countries() -> Iterator[CountryRow]:
    vi = gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=["vi"], fallback=True)
    for country in pycountry.countries:
        name_en = getattr(country, "common_name", None) or country.name
        name_vi = _VI_OVERRIDES.get(country.alpha_2) or vi.gettext(country.name)
        aliases = [
            name_en,
            country.name,
            getattr(country, "official_name", ""),
            name_vi,
            vi.gettext(country.name),
            country.alpha_2,
            country.alpha_3,
        ]
        keys = " | ".join(dict.fromkeys(k for k in (text_key(a) for a in aliases) if k))
        yield CountryRow(country.alpha_2, country.alpha_3, name_en, name_vi, keys[:400])
