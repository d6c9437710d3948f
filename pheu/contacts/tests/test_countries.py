"""Finding a country by what a visitor or a file wrote: codes, names and aliases in either language."""

from __future__ import annotations

import pytest

from pheu.contacts.countries import country_codes, find_country, forget_countries
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
