"""Finding a country by what a visitor or a file wrote: codes, names and aliases in either language."""

from __future__ import annotations

import importlib

import pycountry
import pytest
from django.apps import apps

from pheu.contacts.countries import VI_OVERRIDES, cldr_vi_names, country_codes, find_country, forget_countries
from pheu.contacts.models import Country

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "text", ["VN", "vn", "VNM", "Việt Nam", "viet nam", "Vietnam", "  VIỆT   NAM ", "Viet Nam"]
)
def test_vietnam_written_any_way(text):
    assert find_country(text).code == "VN"


@pytest.mark.parametrize("text", ["Hoa Kỳ", "United States", "US", "usa"])
def test_united_states_in_vietnamese_and_english(text):
    assert find_country(text).code == "US"


@pytest.mark.parametrize("text", ["", None, "Atlantis", "V"])
def test_unknown_text_finds_nothing(text):
    assert find_country(text) is None


def test_callers_get_their_own_copy():
    found = find_country("VN")
    found.name_en = "Changed by a caller"
    assert find_country("VN").name_en == "Vietnam"


def test_an_edited_country_is_seen_after_the_cache_is_forgotten():
    find_country("VN")
    Country.objects.filter(code="VN").update(name_keys="viet nam | vietnam | vn | vnm | an nam")
    forget_countries()
    try:
        assert find_country("An Nam").code == "VN"
        assert country_codes()["an nam"] == "VN"
    finally:
        forget_countries()  # the rollback restores the row; the next test reads it again


# --- the Vietnamese names -------------------------------------------------------------------------------
def test_every_country_has_cldr_s_vietnamese_name():
    """Checked against the Unicode CLDR (as Babel ships it) over every country; the few shorter names
    Vietnamese writing prefers are listed in VI_OVERRIDES."""
    cldr = cldr_vi_names()
    names = dict(Country.objects.values_list("code", "name_vi"))
    assert set(names) == {c.alpha_2 for c in pycountry.countries}
    expected = {code: VI_OVERRIDES.get(code) or cldr[code] for code in names}
    assert {code: name for code, name in names.items() if name != expected[code]} == {}
    assert all(VI_OVERRIDES[code] != cldr[code] for code in VI_OVERRIDES)


@pytest.mark.parametrize(
    ("code", "name_vi"),
    [
        ("CA", "Canada"),
        ("SG", "Singapore"),
        ("ID", "Indonesia"),
        ("LU", "Luxembourg"),
        ("IE", "Ireland"),
        ("KH", "Campuchia"),
        ("MM", "Myanmar"),
        ("CZ", "Séc"),
        ("TR", "Thổ Nhĩ Kỳ"),
        ("US", "Hoa Kỳ"),
        ("JP", "Nhật Bản"),
    ],
)
def test_names_vietnamese_readers_use_today(code, name_vi):
    assert Country.objects.get(code=code).name_vi == name_vi


@pytest.mark.parametrize(
    ("text", "code"), [("Ca-na-đa", "CA"), ("Miến Điện", "MM"), ("Nam Dương", "ID"), ("Sec", "CZ")]
)
def test_the_old_names_still_find_the_country(text, code):
    forget_countries()
    assert find_country(text).code == code


def test_the_migration_keeps_a_name_an_administrator_changed():
    migration = importlib.import_module("pheu.contacts.migrations.0003_country_names_vi_cldr")
    Country.objects.filter(code="CA").update(name_vi="Ca-na-đa", name_keys="")
    Country.objects.filter(code="SG").update(name_vi="Sing", name_keys="")
    migration.use_cldr_names(apps, None)
    assert Country.objects.get(code="CA").name_vi == "Canada"
    singapore = Country.objects.get(code="SG")
    assert singapore.name_vi == "Sing"
    assert "xin-ga-po" in singapore.name_keys
