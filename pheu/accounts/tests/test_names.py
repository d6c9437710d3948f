"""People's names in the reader's language: family name first in Vietnamese, given name first in English."""

from __future__ import annotations

import pytest
from django.utils import translation

from pheu.lib.names import full_name
from pheu.testing import make_user

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(("language", "shown"), [("vi", "Bùi Vi"), ("en", "Vi Bùi")])
def test_a_user_is_named_in_the_order_of_the_reader_s_language(language, shown):
    user = make_user("vi", first_name="Vi", last_name="Bùi")
    with translation.override(language):
        assert (str(user), user.get_full_name(), user.display_name) == (shown, shown, shown)


def test_a_missing_part_is_left_out_and_no_name_is_the_login():
    assert full_name("Vi", "", language="vi") == "Vi"
    assert full_name(None, " Bùi ", language="en") == "Bùi"
    assert str(make_user("nobody", first_name="", last_name="")) == "nobody"


def test_the_api_names_a_user_in_the_request_language(api_client, actors):
    client = api_client(actors.sales1)
    assert client.get(f"/api/v1/users/{actors.sales1.pk}/").json()["name"] == "Nguyễn An"
    english = client.get(f"/api/v1/users/{actors.sales1.pk}/", HTTP_ACCEPT_LANGUAGE="en")
    assert english.json()["name"] == "An Nguyễn"
