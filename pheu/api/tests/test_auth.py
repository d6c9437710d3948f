"""``POST /api/v1/auth/token/`` and the two ways of authenticating (token, session)."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.urls import reverse
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from pheu.accounts.models import User
from pheu.api.auth import TokenThrottle
from pheu.testing import PASSWORD

pytestmark = pytest.mark.django_db

TOKEN = reverse("api:token")
LEADS = reverse("api:lead-list")


@pytest.fixture(autouse=True)
def _fresh_throttle():
    cache.clear()
    yield
    cache.clear()


def test_the_right_password_gives_the_users_token_which_then_authenticates(actors):
    response = APIClient().post(TOKEN, {"username": "sales1", "password": PASSWORD}, format="json")
    assert response.status_code == 200
    token = response.json()["token"]
    assert token == Token.objects.get(user=actors.sales1).key
    # the same token every time
    assert APIClient().post(TOKEN, {"username": "sales1", "password": PASSWORD}).json()["token"] == token

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert client.get(LEADS).status_code == 200


@pytest.mark.parametrize(
    "credentials",
    [
        {"username": "sales1", "password": "wrong"},
        {"username": "ghost", "password": PASSWORD},
        {"username": "inactive", "password": PASSWORD},
    ],
)
def test_wrong_credentials_are_a_400_that_does_not_say_which_part_was_wrong(actors, credentials):
    User.objects.filter(username="sales3").update(username="inactive", is_active=False)
    response = APIClient().post(TOKEN, credentials, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert response.json()["detail"]
    assert not Token.objects.exists()


@pytest.mark.parametrize(
    ("payload", "fields"),
    [
        ({}, {"username", "password"}),
        ({"username": "sales1"}, {"password"}),
        ({"username": ["sales1"], "password": PASSWORD}, {"username"}),
    ],
)
def test_missing_fields_are_400_field_errors(actors, payload, fields):
    response = APIClient().post(TOKEN, payload, format="json")
    assert response.status_code == 400
    assert set(response.json()) == fields


def test_repeated_failures_lock_the_account_even_for_the_right_password(actors, settings):
    settings.PHEU_LOGIN_MAX_FAILURES = 3
    client = APIClient()
    for _attempt in range(3):
        client.post(TOKEN, {"username": "sales1", "password": "wrong"}, format="json")
    response = client.post(TOKEN, {"username": "sales1", "password": PASSWORD}, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "locked"
    assert not Token.objects.exists()


def test_token_requests_are_rate_limited_per_address(actors, monkeypatch):
    monkeypatch.setattr(TokenThrottle, "rate", "2/min")
    client = APIClient()
    for _attempt in range(2):
        assert client.post(TOKEN, {"username": "x", "password": "y"}, format="json").status_code == 400
    assert client.post(TOKEN, {"username": "sales1", "password": PASSWORD}, format="json").status_code == 429


def test_a_bad_token_is_a_401_and_the_session_works_too(actors, client):
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION="Token not-a-token")
    assert api.get(LEADS).status_code == 401
    assert APIClient().get(LEADS).status_code == 401
    client.force_login(actors.sales1)
    assert client.get(LEADS).status_code == 200


def test_session_writes_need_the_csrf_token(actors):
    api = APIClient(enforce_csrf_checks=True)
    api.force_login(actors.sales1)
    response = api.post(LEADS, {"name": "X"}, format="json")
    assert response.status_code == 403
